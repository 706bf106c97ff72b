using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ClipService.Inference;
using Microsoft.Extensions.DependencyInjection;
using static ClipService.Tests.ClassifyBatchTests;
using static ClipService.Tests.EmbeddingsTests;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

public sealed class OpenAiTests(DefaultService service) : IClassFixture<DefaultService>
{
    private static readonly string[] Texts = ["a photo of a red circle.", "a photo of a blue star."];

    /// <summary>Asserts OpenAI's error shape with the status, and returns the error object.</summary>
    internal static async Task<JsonElement> AssertOpenAiErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        using var doc = JsonDocument.Parse(body);
        var error = doc.RootElement.GetProperty("error").Clone();
        Assert.Equal(["code", "message", "param", "type"], error.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        return error;
    }

    [Fact]
    public async Task Text_embeddings_have_openais_exact_shape_and_equal_embed_text()
    {
        var response = await Ok(await service.Client.PostAsJsonAsync("/v1/embeddings", new { model = "clip-shapes", input = Texts, user = "someone" }));
        Assert.Equal(["data", "model", "object", "usage"], response.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("list", response.GetProperty("object").GetString());
        Assert.Equal("clip-shapes", response.GetProperty("model").GetString());
        var data = response.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal([0, 1], data.Select(d => d.GetProperty("index").GetInt32()));
        Assert.All(data, d => Assert.Equal(["embedding", "index", "object"], d.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)));
        Assert.All(data, d => Assert.Equal("embedding", d.GetProperty("object").GetString()));

        var reference = Rows(await Ok(await service.Client.PostAsJsonAsync("/embed/text", new { texts = Texts })));
        Assert.Equal(reference, data.Select(d => d.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray()));

        // Tokens by the CLIP tokenizer: start + "a photo of a red circle ." (7) + end.
        var usage = response.GetProperty("usage");
        Assert.Equal(18, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(18, usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Base64_encoding_is_little_endian_float32_of_the_same_vector()
    {
        var floats = await Ok(await service.Client.PostAsJsonAsync("/v1/embeddings", new { model = "clip-shapes", input = Texts[0] }));
        var encoded = await Ok(await service.Client.PostAsJsonAsync("/v1/embeddings", new { model = "clip-shapes", input = Texts[0], encoding_format = "base64" }));
        var bytes = Convert.FromBase64String(encoded.GetProperty("data")[0].GetProperty("embedding").GetString()!);
        var decoded = Enumerable.Range(0, bytes.Length / 4).Select(i => BitConverter.ToSingle(bytes, i * 4)).ToArray();
        Assert.True(BitConverter.IsLittleEndian);
        Assert.Equal(floats.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()), decoded);
    }

    [Fact]
    public async Task Image_modality_takes_data_uris_and_equals_embed_image_with_zero_tokens()
    {
        var images = new[] { TestImages.Shape("red", "circle", seed: 70), TestImages.Shape("blue", "star", seed: 71) };
        var response = await Ok(await service.Client.PostAsJsonAsync("/v1/embeddings", new
        {
            model = "clip-shapes",
            modality = "image",
            input = images.Select(i => "data:image/png;base64," + Convert.ToBase64String(i)).ToArray(),
        }));
        Assert.Equal(0, response.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        var data = response.GetProperty("data").EnumerateArray().ToList();
        for (var i = 0; i < images.Length; i++)
        {
            using var form = Form(images[i]);
            var reference = Rows(await Ok(await service.Client.PostAsync("/embed/image", form)))[0];
            Assert.Equal(reference, data[i].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()));
        }
    }

    [Fact]
    public async Task Models_are_listed_and_retrieved_in_openais_shape()
    {
        var list = await Ok(await service.Client.GetAsync("/v1/models"));
        Assert.Equal("list", list.GetProperty("object").GetString());
        var model = Assert.Single(list.GetProperty("data").EnumerateArray());
        Assert.Equal("clip-shapes", model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());
        Assert.Equal("clipservice", model.GetProperty("owned_by").GetString());
        Assert.True(model.GetProperty("created").GetInt64() > 1_600_000_000);
        var one = await Ok(await service.Client.GetAsync("/v1/models/clip-shapes"));
        Assert.Equal(model.ToString(), one.ToString());
    }

    [Fact]
    public async Task Errors_on_v1_are_in_openais_shape_with_the_right_status()
    {
        var unknown = await AssertOpenAiErrorAsync(await service.Client.PostAsJsonAsync("/v1/embeddings", new { model = "gpt-4", input = "x" }), HttpStatusCode.NotFound);
        Assert.Equal("model_not_found", unknown.GetProperty("code").GetString());
        Assert.Equal("model", unknown.GetProperty("param").GetString());
        Assert.Equal("invalid_request_error", unknown.GetProperty("type").GetString());

        var noModel = await AssertOpenAiErrorAsync(await service.Client.PostAsJsonAsync("/v1/embeddings", new { input = "x" }), HttpStatusCode.BadRequest);
        Assert.Equal("model", noModel.GetProperty("param").GetString());
        var tokens = await AssertOpenAiErrorAsync(await service.Client.PostAsJsonAsync("/v1/embeddings", new { model = "clip-shapes", input = new[] { 1, 2, 3 } }), HttpStatusCode.BadRequest);
        Assert.Equal("input", tokens.GetProperty("param").GetString());
        var format = await AssertOpenAiErrorAsync(await service.Client.PostAsJsonAsync("/v1/embeddings", new { model = "clip-shapes", input = "x", encoding_format = "int8" }), HttpStatusCode.BadRequest);
        Assert.Equal("encoding_format", format.GetProperty("param").GetString());
        await AssertOpenAiErrorAsync(await service.Client.PostAsJsonAsync("/v1/embeddings", new { model = "clip-shapes", input = "data:image/png;base64,AAAA", modality = "image" }), HttpStatusCode.UnsupportedMediaType);
        using (var broken = new StringContent("{ nope", Encoding.UTF8, "application/json"))
            await AssertOpenAiErrorAsync(await service.Client.PostAsync("/v1/embeddings", broken), HttpStatusCode.BadRequest);
        await AssertOpenAiErrorAsync(await service.Client.GetAsync("/v1/models/nope"), HttpStatusCode.NotFound);
        await AssertOpenAiErrorAsync(await service.Client.GetAsync("/v1/no-such-endpoint"), HttpStatusCode.NotFound);

        // Everywhere else, problem details as before.
        await AssertProblemAsync(await service.Client.PostAsJsonAsync("/embed/text", new { texts = Array.Empty<string>() }), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Too_large_and_overloaded_are_413_and_503_with_retry_after_in_openais_shape()
    {
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?>
        {
            ["Clip:MaxRequestBytes"] = "4096",
            ["Clip:Inference:MaxConcurrentRuns"] = "1",
            ["Clip:Inference:MaxQueuedRequests"] = "0",
        });
        using var client = await factory.ReadyClientAsync();
        var large = await AssertOpenAiErrorAsync(await client.PostAsJsonAsync("/v1/embeddings", new { model = "clip-shapes", input = new string('a', 5000) }),
            HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("request_too_large", large.GetProperty("code").GetString());

        await using var held = await HeldGate.HoldAsync(factory.Services.GetRequiredService<InferenceGate>());
        using var response = await client.PostAsJsonAsync("/v1/embeddings", new { model = "clip-shapes", input = "a never seen text" });
        var busy = await AssertOpenAiErrorAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("server_error", busy.GetProperty("type").GetString());
        Assert.NotNull(response.Headers.RetryAfter);
    }
}
