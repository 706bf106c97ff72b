using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using ClipService.Core.Models;
using ClipService.Core.Scoring;
using ClipService.Diagnostics;
using ClipService.Inference;
using ClipService.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

/// <summary>What one request's texts may cost: template length, encoder runs of a bounded size that stop when the
/// request goes, and a bounded share of the text cache.</summary>
public sealed class TextBoundsTests
{
    private const int RunSize = 8;

    /// <summary>The service with text runs of <see cref="RunSize"/>, ready, and what the tests call directly.</summary>
    private sealed record SmallRuns(ClipServiceFactory Factory, ClipModel Model, IClipInference Inference) : IAsyncDisposable
    {
        public static async Task<SmallRuns> StartAsync()
        {
            var factory = new ClipServiceFactory(new Dictionary<string, string?> { ["Clip:Batching:MaxTextBatchSize"] = $"{RunSize}" });
            (await factory.ReadyClientAsync()).Dispose();
            return new(factory, factory.Services.GetRequiredService<ModelRegistry>().Get(null), factory.Services.GetRequiredService<IClipInference>());
        }

        public ValueTask DisposeAsync() => Factory.DisposeAsync();
    }

    private static string[] Texts(int count, string tag) =>
        [.. Enumerable.Range(0, count).Select(i => $"a {tag} drawing number {i} of a shape")];

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(a, b);

    [Fact]
    public async Task Texts_are_encoded_in_runs_of_the_text_batch_size_and_equal_one_run()
    {
        await using var service = await SmallRuns.StartAsync();
        var (model, inference) = (service.Model, service.Inference);
        var texts = Texts(20, "runs");

        var calls = model.Text.Calls;
        var embedded = await inference.EmbedTextsAsync(model, texts, CancellationToken.None);
        Assert.Equal(calls + 3, model.Text.Calls); // 8 + 8 + 4

        var whole = model.EncodeTexts(texts);
        for (var i = 0; i < texts.Length; i++)
            Assert.True(Cosine(embedded.Rows[i].Span, whole.AsSpan(i * model.EmbeddingSize, model.EmbeddingSize)) > 0.99999, $"text {i}");
    }

    [Fact]
    public async Task An_ensemble_with_more_templates_than_a_run_is_split_and_equals_one_run()
    {
        await using var service = await SmallRuns.StartAsync();
        var (model, inference) = (service.Model, service.Inference);
        string[] labels = ["red circle", "blue star", "green ring"];
        var templates = PromptTemplates.Named["imagenet80"].Take(12).ToArray();

        var calls = model.Text.Calls;
        var embedded = await inference.ComputeLabelsAsync(model, labels, templates, EncoderPriority.Request, null, CancellationToken.None);
        Assert.Equal(calls + 6, model.Text.Calls); // each label's 12 prompts: 8 + 4

        var dim = model.EmbeddingSize;
        for (var l = 0; l < labels.Length; l++)
        {
            var prompts = model.EncodeTexts([.. templates.Select(t => PromptTemplates.Apply(t, labels[l]))]);
            var expected = new float[dim];
            ZeroShotScorer.Ensemble(prompts, templates.Length, expected);
            Assert.True(Cosine(embedded.Rows[l].Span, expected) > 0.99999, labels[l]);
        }
    }

    [Fact]
    public async Task A_request_that_goes_away_stops_after_its_current_run_and_a_waiting_request_takes_its_texts_over()
    {
        await using var service = await SmallRuns.StartAsync();
        var (factory, model, inference) = (service.Factory, service.Model, service.Inference);
        var gate = factory.Services.GetRequiredService<InferenceGate>();
        var meter = factory.Services.GetRequiredService<ClipMetrics>().Meter;
        var texts = Texts(40, "abandoned");

        // The first request's client leaves while its first run is being encoded.
        using var leaves = new CancellationTokenSource();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == "clip.texts.encoded")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, _, _, _) => leaves.Cancel());
        listener.Start();

        var held = await HeldGate.HoldAsync(gate);
        var calls = model.Text.Calls;
        var leaving = inference.EmbedTextsAsync(model, texts, leaves.Token);
        var staying = inference.EmbedTextsAsync(model, texts, CancellationToken.None);
        await held.DisposeAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving);
        listener.Dispose();
        var rows = await staying;
        // One run for the request that left; all five for the one that stayed, which found the texts abandoned.
        Assert.Equal(calls + 1 + 5, model.Text.Calls);
        Assert.Equal(texts.Length, rows.Rows.Count);
        var whole = model.EncodeTexts(texts);
        Assert.True(Cosine(rows.Rows[39].Span, whole.AsSpan(39 * model.EmbeddingSize, model.EmbeddingSize)) > 0.99999);

        // What the request that stayed computed is cached.
        calls = model.Text.Calls;
        await inference.EmbedTextsAsync(model, texts, CancellationToken.None);
        Assert.Equal(calls, model.Text.Calls);
    }

    [Fact]
    public async Task One_request_fills_at_most_its_share_of_the_text_cache()
    {
        var cache = new TextEmbeddingCache(Options.Create(new TextCacheOptions { MaxMegabytes = 1, MaxPercentPerRequest = 25 }));
        var encoder = new CountingTextEncoder();

        // ~4.2 KB an entry: the 1 MB cache holds about 240, one request may add about 60.
        for (var i = 0; i < 100; i++)
            await cache.GetOrComputeAsync([$"earlier {i}"], encoder.ComputeAsync, CancellationToken.None);
        var before = cache.Bytes;
        var flood = await cache.GetOrComputeAsync([.. Enumerable.Range(0, 500).Select(i => $"flood {i}")], encoder.ComputeAsync, CancellationToken.None);
        Assert.Equal(500, flood.Length);
        Assert.All(flood, row => Assert.Equal(1024, row.Vector.Length));
        Assert.InRange(cache.Bytes - before, 200 * 1024, 256 * 1024 + 4400);

        // Every earlier entry is still there.
        encoder.Reset();
        await cache.GetOrComputeAsync([.. Enumerable.Range(0, 100).Select(i => $"earlier {i}")], encoder.ComputeAsync, CancellationToken.None);
        Assert.Equal(0, encoder.Computed);
    }

    [Theory]
    [InlineData("template")]
    [InlineData("templates")]
    public async Task A_template_longer_than_the_label_limit_is_refused_before_any_work(string field)
    {
        await using var factory = new ClipServiceFactory();
        using var client = await factory.ReadyClientAsync();
        var text = factory.Services.GetRequiredService<ModelRegistry>().Get(null).Text;
        var template = "{} " + new string('x', 128_000);
        var image = Convert.ToBase64String(TestImages.Shape("red", "circle"));
        object body = field == "template"
            ? new { image, labels = new[] { "red circle" }, template }
            : new { image, labels = new[] { "red circle" }, templates = new[] { "a photo of a {}.", template } };

        var calls = text.Calls;
        using var response = await client.PostAsJsonAsync("/classify", body);
        var detail = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("at most 4096 characters", detail);
        Assert.True(detail.Length < 300, detail);
        Assert.Equal(calls, text.Calls);
    }

    [Fact]
    public async Task A_long_template_without_a_placeholder_is_quoted_short()
    {
        await using var factory = new ClipServiceFactory();
        using var client = await factory.ReadyClientAsync();
        var image = Convert.ToBase64String(TestImages.Shape("red", "circle"));
        using var response = await client.PostAsJsonAsync("/classify", new { image, labels = new[] { "red circle" }, template = new string('y', 4000) });
        var detail = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("4,000 characters", detail);
        Assert.True(detail.Length < 400, detail);
    }
}
