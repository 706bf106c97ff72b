using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ClipService.Core.Models;
using ClipService.Inference;
using ClipService.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

/// <summary>The batching encoder pool and the text-embedding cache, observed through the encoders' call counters.</summary>
public sealed class ThroughputTests
{
    private static async Task<float[]> EmbedAsync(HttpClient client, byte[] image)
    {
        using var form = Form(image);
        using var response = await client.PostAsync("/embed/image", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("embeddings")[0].EnumerateArray().Select(v => v.GetSingle()).ToArray();
    }

    private static ClipModel DefaultModel(ClipServiceFactory factory) => factory.Services.GetRequiredService<ModelRegistry>().Get(null);

    [Fact]
    public async Task Classifying_again_with_the_same_labels_makes_no_text_encoder_call()
    {
        await using var factory = new ClipServiceFactory();
        using var client = await factory.ReadyClientAsync();
        var text = DefaultModel(factory).Text;

        using (var first = Form(TestImages.Shape("red", "circle"), ("labels", "red circle"), ("labels", "blue star"), ("labels", "green ring")))
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/classify", first)).StatusCode);
        var calls = text.Calls;
        using (var second = Form(TestImages.Shape("blue", "star", seed: 4), ("labels", "green ring"), ("labels", "red circle"), ("labels", "blue star")))
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/classify", second)).StatusCode);
        Assert.Equal(calls, text.Calls);

        // A request with one new label encodes only that one, in one call.
        using (var third = Form(TestImages.Shape("blue", "star", seed: 4), ("labels", "red circle"), ("labels", "white cross")))
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/classify", third)).StatusCode);
        Assert.Equal(calls + 1, text.Calls);

        // Ensembles are cached too.
        var image = Convert.ToBase64String(TestImages.Shape("red", "circle"));
        var body = new { image, labels = new[] { "red circle", "blue star" }, templates = new[] { "imagenet7" } };
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/classify", body)).StatusCode);
        var afterEnsemble = text.Calls;
        Assert.Equal(calls + 2, afterEnsemble);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/classify", body)).StatusCode);
        Assert.Equal(afterEnsemble, text.Calls);
    }

    [Fact]
    public async Task Concurrent_misses_for_the_same_labels_are_encoded_once()
    {
        await using var factory = new ClipServiceFactory();
        using var client = await factory.ReadyClientAsync();
        var text = DefaultModel(factory).Text;
        var calls = text.Calls;
        var image = Convert.ToBase64String(TestImages.Shape("yellow", "square"));
        var requests = Enumerable.Range(0, 12).Select(_ =>
            client.PostAsJsonAsync("/classify", new { image, labels = new[] { "yellow square", "purple cross", "black ring" } }));
        var responses = await Task.WhenAll(requests);
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(calls + 1, text.Calls);
    }

    [Fact]
    public async Task Concurrent_images_are_batched_and_give_the_embeddings_they_give_alone()
    {
        await using var factory = new ClipServiceFactory();
        using var client = await factory.ReadyClientAsync();
        var model = DefaultModel(factory);
        var images = Enumerable.Range(0, 24).Select(i => TestImages.Shape(i % 2 == 0 ? "red" : "blue", i % 3 == 0 ? "star" : "ring", seed: i)).ToList();

        var alone = new List<float[]>();
        foreach (var image in images)
            alone.Add(await EmbedAsync(client, image));

        // With the encoder busy, the requests queue; once it is free they go through in full batches (8 on the CPU).
        var batcher = factory.Services.GetRequiredService<ImageBatchers>().For(model);
        var callsBefore = model.Image.Calls;
        var held = await HeldGate.HoldAsync(factory.Services.GetRequiredService<InferenceGate>());
        var together = images.Select(image => EmbedAsync(client, image)).ToList();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (batcher.Queued < images.Count && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        Assert.Equal(images.Count, batcher.Queued);
        await held.DisposeAsync();
        var results = await Task.WhenAll(together);

        Assert.Equal(images.Count / BatchingOptions.CpuBatchSize, model.Image.Calls - callsBefore);
        for (var i = 0; i < images.Count; i++)
        {
            var cosine = alone[i].Zip(results[i], (a, b) => (double)a * b).Sum();
            Assert.True(cosine > 0.99999, $"image {i}: cosine {cosine} between batched and single encoding");
        }
    }

    [Fact]
    public async Task A_request_whose_client_left_is_dropped_without_being_encoded()
    {
        using var model = ClipModel.Load(Path.Combine(ClipServiceFactory.TestModels, "tiny-clip"));
        var gate = new InferenceGate(Options.Create(new InferenceOptions()));
        await using var batcher = new ImageBatcher(model, gate, new BatchingOptions(), NullLogger.Instance, TestMetrics.Create());

        // Hold the encoder so the next requests queue up.
        var held = await HeldGate.HoldAsync(gate);

        using var gone = new CancellationTokenSource();
        var abandoned = batcher.EncodeAsync(TestImages.Shape("red", "star"), TimeSpan.FromSeconds(30), gone.Token);
        var kept = batcher.EncodeAsync(TestImages.Shape("blue", "ring"), TimeSpan.FromSeconds(30), CancellationToken.None);
        await gone.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);

        await held.DisposeAsync();
        Assert.Equal(model.EmbeddingSize, (await kept).Length);
        Assert.Equal(1, batcher.ImagesEncoded);
        Assert.Equal(1, batcher.Dropped);
    }

    [Fact]
    public async Task A_full_image_queue_answers_503_with_retry_after()
    {
        using var model = ClipModel.Load(Path.Combine(ClipServiceFactory.TestModels, "tiny-clip"));
        var gate = new InferenceGate(Options.Create(new InferenceOptions()));
        await using var batcher = new ImageBatcher(model, gate, new BatchingOptions { MaxQueuedImages = 1, MaxBatchSize = 1 }, NullLogger.Instance, TestMetrics.Create());
        var held = await HeldGate.HoldAsync(gate);

        // Admission comes before decoding: once the queue is full the next request is refused at once (the
        // returned task is already faulted).
        var queued = new List<Task<float[]>>();
        Task<float[]>? refusedTask = null;
        for (var i = 0; i < 4 && refusedTask is null; i++)
        {
            var task = batcher.EncodeAsync(TestImages.Shape("red", "star"), TimeSpan.FromSeconds(30), CancellationToken.None);
            if (task.IsFaulted)
                refusedTask = task;
            else
                queued.Add(task);
        }

        Assert.NotNull(refusedTask);
        var refused = await Assert.ThrowsAsync<ClipService.Errors.ServiceUnavailableException>(() => refusedTask);
        Assert.True(refused.RetryAfter > TimeSpan.Zero);
        Assert.InRange(queued.Count, 1, 2);
        await held.DisposeAsync();
        await Task.WhenAll(queued);
    }

    [Fact]
    public async Task Background_work_waits_until_no_request_needs_the_encoder()
    {
        var gate = new InferenceGate(Options.Create(new InferenceOptions()));
        var held = await HeldGate.HoldAsync(gate);
        var ran = 0;
        var background = Task.Run(async () =>
        {
            await gate.WhenIdleAsync(CancellationToken.None);
            return Interlocked.Increment(ref ran);
        });
        await Task.Delay(200);
        Assert.Equal(0, Volatile.Read(ref ran));

        // A request that arrives while the background work waits goes first, and keeps the encoder until it is done.
        var request = gate.AcquireAsync(CancellationToken.None);
        held.Release();
        using (await request)
        {
            await Task.Delay(200);
            Assert.Equal(0, Volatile.Read(ref ran));
        }

        Assert.Equal(1, await background.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, gate.InFlight);
    }

    [Fact]
    public async Task The_cache_evicts_least_recently_used_entries_beyond_its_size()
    {
        var cache = new TextEmbeddingCache(Options.Create(new TextCacheOptions { MaxMegabytes = 1 }));
        var encoder = new CountingTextEncoder();

        // ~4.2 KB an entry: a 1 MB cache holds a little over 240 of them.
        for (var i = 0; i < 400; i++)
            await cache.GetOrComputeAsync([$"key {i}"], encoder.ComputeAsync, CancellationToken.None);
        Assert.True(cache.Bytes <= 1024 * 1024);
        Assert.InRange(cache.Count, 200, 260);
        await cache.GetOrComputeAsync(["key 399"], encoder.ComputeAsync, CancellationToken.None);
        Assert.Equal(400, encoder.Computed);
        await cache.GetOrComputeAsync(["key 0"], encoder.ComputeAsync, CancellationToken.None);
        Assert.Equal(401, encoder.Computed);
    }
}
