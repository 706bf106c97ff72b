using ClipService.Classification;
using ClipService.Errors;
using ClipService.Inference;
using ClipService.Models;
using ClipService.Requests;
using Microsoft.Extensions.Options;

namespace ClipService.Evaluation;

/// <summary>
/// The service's engine in this process: the same label resolution (templates, ensembles, the text cache), batching
/// image pool, scoring and ranking that /classify, /embed/image and /embed/text run, without HTTP between. A refusal
/// is described as the endpoint would answer it (status and detail, through the service's one exception mapping), so
/// the report lists the same reasons as over --url; overload is waited out as Retry-After would ask.
/// </summary>
public sealed class EngineTarget(IServiceProvider services) : IEvaluationTarget
{
    private const int MaxOverloadRetries = 60;

    private readonly ZeroShotLabels _labels = services.GetRequiredService<ZeroShotLabels>();
    private readonly IClipInference _inference = services.GetRequiredService<IClipInference>();
    private readonly ModelRegistry _registry = services.GetRequiredService<ModelRegistry>();
    private readonly RequestLimitsOptions _limits = services.GetRequiredService<IOptions<RequestLimitsOptions>>().Value;
    private readonly ModelOptions _modelOptions = services.GetRequiredService<IOptions<ModelOptions>>().Value;

    public Task<IReadOnlyList<ServedModel>> ModelsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ServedModel>>([.. ModelsApi.ListModels(_registry, Options.Create(_modelOptions)).Value!
            .Select(m => new ServedModel(m.Name, m.Default, m.Family, m.Scoring, m.Provider))]);

    public Task<ClassifyAnswer> ClassifyAsync(byte[] image, IReadOnlyList<string> labels, string model, TemplateChoice prompts, int topK,
        CancellationToken cancellationToken) =>
        AnswerAsync(async () =>
        {
            var choice = new LabelChoice(labels, null, prompts.Template, prompts.Ensemble is null ? [] : [prompts.Ensemble], model, Math.Min(topK, labels.Count));
            var clip = _labels.Model(choice);
            var query = await _labels.ResolveAsync(choice, clip, _limits, cancellationToken);
            var embedding = await _inference.EmbedImageAsync(clip, WithinBodyLimit(image), cancellationToken);
            var ranked = ZeroShotLabels.Rank(query, embedding);
            return new ClassifyAnswer(clip.Name, clip.Scoring.Name, [.. ranked.Select(r => new RankedLabel(r.Label, r.Score, r.Similarity))], query.Templates);
        }, cancellationToken);

    public Task<float[]> EmbedImageAsync(byte[] image, string model, CancellationToken cancellationToken) =>
        AnswerAsync(() => _inference.EmbedImageAsync(_registry.Get(model), WithinBodyLimit(image), cancellationToken), cancellationToken);

    public Task<float[][]> EmbedTextsAsync(IReadOnlyList<string> texts, string model, CancellationToken cancellationToken) =>
        AnswerAsync(async () =>
        {
            TextRules.Validate(texts, "texts", _limits);
            var embeddings = await _inference.EmbedTextsAsync(_registry.Get(model), texts, cancellationToken);
            return embeddings.Rows.Select(r => r.ToArray()).ToArray();
        }, cancellationToken);

    // What the endpoint would refuse before reading the image: a body over Clip:MaxRequestBytes.
    private byte[] WithinBodyLimit(byte[] image) =>
        image.Length <= _limits.MaxRequestBytes ? image
            : throw new ClientErrorException(StatusCodes.Status413PayloadTooLarge, "Request too large",
                $"The image is {image.Length} bytes; Clip:MaxRequestBytes allows {_limits.MaxRequestBytes}.");

    private static async Task<T> AnswerAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        for (var overloaded = 0; ; overloaded++)
        {
            try
            {
                return await call();
            }
            catch (Errors.ServiceUnavailableException e) when (overloaded < MaxOverloadRetries && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Clamp(e.RetryAfter.TotalSeconds, 0.05, 30)), cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var problem = ProblemMapping.For(e, clientAborted: false);
                throw new RefusedException($"HTTP {problem.Status}: {problem.Detail}");
            }
        }
    }
}
