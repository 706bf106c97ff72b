using ClipService.Core.Encoders;
using ClipService.Core.Models;

namespace ClipService.Core.Tests.Encoders;

/// <summary>
/// The IOBinding hand-off (<see cref="IoBindingMode"/>) that the CUDA provider uses, run on the CPU provider
/// (ONNX Runtime binds CPU memory the same way): the same embeddings as the direct path, for a dynamic batch and for
/// a graph fixed to batch 1 (immich's), and nothing bound when the mode leaves it to the provider.
/// </summary>
public sealed class IoBindingTests
{
    private static ClipModel Load(string folder, IoBindingMode mode) =>
        ClipModel.Load(folder, new ClipModelLoadOptions { ExecutionProvider = new ExecutionProviderOptions { IoBinding = mode } });

    private static float[] Pixels(ImageEncoder encoder, int count)
    {
        var random = new Random(20261207);
        var pixels = new float[count * encoder.ImageTensorLength];
        for (var i = 0; i < pixels.Length; i++)
            pixels[i] = (float)(random.NextDouble() * 4 - 2);
        return pixels;
    }

    public static TheoryData<string, int> Models => new()
    {
        { TestPaths.TinyModel, 1 },
        { TestPaths.TinyModel, 7 },
        { TestPaths.DefaultModel, 5 },
        { TestPaths.Asset("families", "immich-xlmr"), 3 },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Bound_runs_give_the_direct_runs_embeddings(string folder, int count)
    {
        using var direct = Load(folder, IoBindingMode.Never);
        using var bound = Load(folder, IoBindingMode.Always);
        Assert.Null(direct.Image.BoundHostMemory);
        Assert.Equal("Cpu", bound.Image.BoundHostMemory);

        var pixels = Pixels(direct.Image, count);
        var expected = new float[count * direct.EmbeddingSize];
        var actual = new float[count * bound.EmbeddingSize];
        direct.Image.Encode(pixels, count, expected);
        // Twice: the staging memory goes back to the arena after each run, and a second run reuses it.
        bound.Image.Encode(pixels, count, actual);
        bound.Image.Encode(pixels, count, actual);

        Assert.Equal(expected, actual);
        Assert.Equal(2, bound.Image.Calls * (bound.Image.FixedBatchSize is { } b ? b : count) / count);
    }

    [Fact]
    public void Auto_binds_only_on_cuda_so_the_cpu_path_is_unchanged()
    {
        using var model = Load(TestPaths.TinyModel, IoBindingMode.Auto);
        Assert.Equal(OnnxSessionFactory.CpuProvider, model.Provider);
        Assert.Null(model.Image.BoundHostMemory);
    }

    [Fact]
    public void A_bound_encoder_disposed_refuses_runs_and_frees_its_session()
    {
        var model = Load(TestPaths.TinyModel, IoBindingMode.Always);
        var pixels = Pixels(model.Image, 1);
        var embeddings = new float[model.EmbeddingSize];
        model.Image.Encode(pixels, 1, embeddings);
        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => model.Image.Encode(pixels, 1, embeddings));
    }
}
