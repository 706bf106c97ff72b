using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace ClipService.Evaluation;

/// <summary>
/// Drives a deployment over HTTP (--url): the path its users hit. Overload (429, 503) is waited out as Retry-After asks; other refusals are
/// the input's own and are returned for the report.
/// </summary>
public sealed class EvaluationClient(HttpClient http, TimeProvider? time = null) : IEvaluationTarget
{
    private const int MaxOverloadRetries = 60;
    private const int MaxConnectionRetries = 3;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public static HttpClient CreateHttpClient(Uri address, string? apiKey, int connections, TimeSpan timeout)
    {
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) })
        {
            BaseAddress = address,
            Timeout = timeout,
        };
        if (apiKey is not null)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return http;
    }

    public async Task<IReadOnlyList<ServedModel>> ModelsAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, "models"), cancellationToken);
        try
        {
            return await response.Content.ReadFromJsonAsync<List<ServedModel>>(Json, cancellationToken) ?? [];
        }
        catch (JsonException)
        {
            throw new TargetUnavailableException($"{http.BaseAddress} is not a ClipService: GET /models did not answer its list of models.");
        }
    }

    public async Task<ClassifyAnswer> ClassifyAsync(byte[] image, IReadOnlyList<string> labels, string model, TemplateChoice prompts, int topK,
        CancellationToken cancellationToken)
    {
        var body = new ClassifyBody(Convert.ToBase64String(image), labels, model, prompts.Template,
            prompts.Ensemble is null ? null : [prompts.Ensemble], Math.Min(topK, labels.Count));
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, "classify") { Content = JsonContent.Create(body, options: Json) }, cancellationToken);
        ClassifyAnswer? answer;
        try
        {
            answer = await response.Content.ReadFromJsonAsync<ClassifyAnswer>(Json, cancellationToken);
        }
        catch (JsonException)
        {
            answer = null;
        }

        // An answer the report cannot use is the deployment's fault, not the image's: the run stops.
        return answer is { Labels.Count: > 0, Templates: not null } && answer.Labels.All(l => labels.Contains(l.Label))
            ? answer
            : throw new TargetUnavailableException($"{http.BaseAddress} answered POST /classify with no ranking of the labels it was given.");
    }

    public async Task<float[]> EmbedImageAsync(byte[] image, string model, CancellationToken cancellationToken)
    {
        var body = new EmbedImageBody(Convert.ToBase64String(image), model);
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, "embed/image") { Content = JsonContent.Create(body, options: Json) }, cancellationToken);
        var answer = await response.Content.ReadFromJsonAsync<EmbeddingsAnswer>(Json, cancellationToken);
        return answer?.Embeddings is [var row] ? row : throw new TargetUnavailableException("POST /embed/image answered no embedding.");
    }

    public async Task<float[][]> EmbedTextsAsync(IReadOnlyList<string> texts, string model, CancellationToken cancellationToken)
    {
        var body = new EmbedTextBody(texts, model);
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, "embed/text") { Content = JsonContent.Create(body, options: Json) }, cancellationToken);
        var answer = await response.Content.ReadFromJsonAsync<EmbeddingsAnswer>(Json, cancellationToken);
        return answer?.Embeddings is { } rows && rows.Length == texts.Count ? rows : throw new TargetUnavailableException("POST /embed/text answered the wrong number of embeddings.");
    }

    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> request, CancellationToken cancellationToken)
    {
        var overloaded = 0;
        var unreachable = 0;
        while (true)
        {
            HttpResponseMessage response;
            using (var message = request())
            {
                try
                {
                    response = await http.SendAsync(message, cancellationToken);
                }
                catch (HttpRequestException) when (++unreachable <= MaxConnectionRetries)
                {
                    await Task.Delay(TimeSpan.FromSeconds(unreachable), _time, cancellationToken);
                    continue;
                }
                catch (HttpRequestException e)
                {
                    throw new TargetUnavailableException($"{http.BaseAddress} cannot be reached: {e.Message}");
                }
                catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TargetUnavailableException($"{http.BaseAddress} did not answer within {http.Timeout.TotalSeconds:F0} s.");
                }
            }

            if (response.IsSuccessStatusCode)
                return response;
            using (response)
            {
                if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable && ++overloaded <= MaxOverloadRetries)
                {
                    var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
                    await Task.Delay(TimeSpan.FromSeconds(Math.Clamp(wait.TotalSeconds, 0.05, 30)), _time, cancellationToken);
                    continue;
                }

                var detail = await ProblemDetailAsync(response, cancellationToken);
                if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                    throw new TargetUnavailableException($"{http.BaseAddress} refused the API key ({(int)response.StatusCode}): give --api-key or CLIP_API_KEY.");
                if (response.StatusCode == HttpStatusCode.NotFound && IsNotClipService(response))
                    throw new TargetUnavailableException($"{http.BaseAddress} has no {response.RequestMessage?.RequestUri?.AbsolutePath}: is it a ClipService?");
                throw new RefusedException($"HTTP {(int)response.StatusCode}: {detail}");
            }
        }

        static bool IsNotClipService(HttpResponseMessage response) =>
            response.Content.Headers.ContentType?.MediaType is not "application/problem+json";
    }

    private static async Task<string> ProblemDetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var json = JsonDocument.Parse(text);
            if (json.RootElement.TryGetProperty("detail", out var detail) && detail.GetString() is { Length: > 0 } d)
                return d;
            if (json.RootElement.TryGetProperty("title", out var title) && title.GetString() is { Length: > 0 } t)
                return t;
        }
        catch (JsonException)
        {
        }

        return response.ReasonPhrase ?? "refused";
    }

    private sealed record ClassifyBody(string Image, IReadOnlyList<string> Labels, string Model, string? Template, IReadOnlyList<string>? Templates, int TopK);

    private sealed record EmbedImageBody(string Image, string Model);

    private sealed record EmbedTextBody(IReadOnlyList<string> Texts, string Model);

    private sealed record EmbeddingsAnswer(float[][]? Embeddings);
}
