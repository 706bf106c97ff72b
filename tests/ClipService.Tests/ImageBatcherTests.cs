using ClipService.Core.Imaging;
using ClipService.Core.Models;
using ClipService.Errors;
using ClipService.Inference;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ClipService.Tests;

/// <summary>The batcher's slots: images preprocessed straight into the batch, failures and give-ups leaving no trace.</summary>
public sealed class ImageBatcherTests
{
    private static ClipModel TinyModel(ImageDecodingOptions? decoding = null) =>
        ClipModel.Load(Path.Combine(ClipServiceFactory.TestModels, "tiny-clip"), new ClipModelLoadOptions { ImageDecoding = decoding ?? new() });

    private static double Cosine(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();

    [Fact]
    public async Task An_undecodable_image_between_two_good_ones_leaves_their_batch_intact()
    {
        using var model = TinyModel();
        var gate = new InferenceGate(Options.Create(new InferenceOptions()));
        await using var batcher = new ImageBatcher(model, gate, new BatchingOptions(), NullLogger.Instance, TestMetrics.Create());
        var first = TestImages.Shape("red", "star", seed: 2);
        var last = TestImages.Shape("green", "ring", seed: 3);
        var firstAlone = model.EncodeImage(first);
        var lastAlone = model.EncodeImage(last);

        var held = await HeldGate.HoldAsync(gate);
        var good1 = batcher.EncodeAsync(first, TimeSpan.FromSeconds(30), CancellationToken.None);
        var bad = batcher.EncodeAsync(first.AsMemory(0, first.Length / 2), TimeSpan.FromSeconds(30), CancellationToken.None);
        var good2 = batcher.EncodeAsync(last, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(ImageProblem.Corrupt, (await Assert.ThrowsAsync<InvalidImageException>(() => bad)).Problem);
        await held.DisposeAsync();

        // The failed slot sat between the two: the second image was moved up and both came out as they do alone.
        Assert.True(Cosine(firstAlone, await good1) > 0.99999);
        Assert.True(Cosine(lastAlone, await good2) > 0.99999);
        Assert.Equal(1, batcher.Batches);
        Assert.Equal(2, batcher.ImagesEncoded);
    }

    [Fact]
    public async Task A_request_past_its_deadline_gets_503_and_its_image_is_not_encoded()
    {
        using var model = TinyModel();
        var gate = new InferenceGate(Options.Create(new InferenceOptions()));
        await using var batcher = new ImageBatcher(model, gate, new BatchingOptions(), NullLogger.Instance, TestMetrics.Create());
        var held = await HeldGate.HoldAsync(gate);

        var late = batcher.EncodeAsync(TestImages.Shape("red", "star"), TimeSpan.FromMilliseconds(300), CancellationToken.None);
        var refused = await Assert.ThrowsAsync<ServiceUnavailableException>(() => late);
        Assert.True(refused.RetryAfter > TimeSpan.Zero);
        var onTime = batcher.EncodeAsync(TestImages.Shape("blue", "ring"), TimeSpan.FromSeconds(30), CancellationToken.None);
        await held.DisposeAsync();

        Assert.Equal(model.EmbeddingSize, (await onTime).Length);
        Assert.Equal(1, batcher.ImagesEncoded);
        Assert.Equal(1, batcher.Dropped);
    }

    [Fact]
    public async Task Batches_keep_their_order_and_images_beyond_one_batch_go_into_the_next()
    {
        using var model = TinyModel();
        var gate = new InferenceGate(Options.Create(new InferenceOptions()));
        await using var batcher = new ImageBatcher(model, gate, new BatchingOptions { MaxBatchSize = 4 }, NullLogger.Instance, TestMetrics.Create());
        var images = Enumerable.Range(0, 10).Select(i => TestImages.Shape(i % 2 == 0 ? "red" : "blue", "star", seed: i)).ToList();
        var alone = images.Select(image => model.EncodeImage(image)).ToList();

        var held = await HeldGate.HoldAsync(gate);
        var together = images.Select(image => batcher.EncodeAsync(image, TimeSpan.FromSeconds(30), CancellationToken.None)).ToList();
        Assert.Equal(10, batcher.Queued);
        await held.DisposeAsync();
        var results = await Task.WhenAll(together);

        Assert.Equal(3, batcher.Batches); // 4 + 4 + 2
        for (var i = 0; i < images.Count; i++)
            Assert.True(Cosine(alone[i], results[i]) > 0.99999, $"image {i}");
    }

    [Fact]
    public async Task By_default_a_model_on_the_cpu_gets_batches_of_eight()
    {
        using var model = TinyModel();
        Assert.Equal(Core.Encoders.OnnxSessionFactory.CpuProvider, model.Image.Provider);
        var gate = new InferenceGate(Options.Create(new InferenceOptions()));
        await using var batcher = new ImageBatcher(model, gate, new BatchingOptions(), NullLogger.Instance, TestMetrics.Create());

        var held = await HeldGate.HoldAsync(gate);
        var together = Enumerable.Range(0, 10)
            .Select(i => batcher.EncodeAsync(TestImages.Shape("red", "star", seed: i), TimeSpan.FromSeconds(30), CancellationToken.None)).ToList();
        await held.DisposeAsync();
        await Task.WhenAll(together);

        Assert.Equal(2, batcher.Batches); // 8 + 2
    }

    [Theory]
    [InlineData(0, "CPUExecutionProvider", BatchingOptions.CpuBatchSize)]
    [InlineData(0, "CUDAExecutionProvider", BatchingOptions.GpuBatchSize)]
    [InlineData(5, "CPUExecutionProvider", 5)]
    [InlineData(5, "CUDAExecutionProvider", 5)]
    public void A_set_batch_size_holds_on_any_provider_and_0_follows_the_provider(int setting, string provider, int expected) =>
        Assert.Equal(expected, new BatchingOptions { MaxBatchSize = setting }.BatchSizeFor(provider));
}
