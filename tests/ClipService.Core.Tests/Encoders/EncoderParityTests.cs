using System.Numerics.Tensors;
using System.Text.Json;
using ClipService.Core.Models;
using Xunit.Abstractions;

namespace ClipService.Core.Tests.Encoders;

/// <summary>The C# encoders against PyTorch's outputs for the same inputs (tools/make_test_model.py).</summary>
public sealed class EncoderParityTests(ITestOutputHelper output)
{
    private const double MinCosine = 0.99999;

    private sealed record Reference(string[] Texts, int[][] InputIds, int[] PixelShape, float[] Pixels, float[][] TextEmbeds, float[][] ImageEmbeds);

    private static readonly Lazy<Reference> s_reference = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Asset("encoder_reference.json")));
        var root = doc.RootElement;
        static float[][] Rows(JsonElement e) => [.. e.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray())];
        return new Reference(
            [.. root.GetProperty("texts").EnumerateArray().Select(t => t.GetString()!)],
            [.. root.GetProperty("input_ids").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray())],
            [.. root.GetProperty("pixel_shape").EnumerateArray().Select(v => v.GetInt32())],
            [.. root.GetProperty("pixel_values").EnumerateArray().Select(v => v.GetSingle())],
            Rows(root.GetProperty("text_embeds")),
            Rows(root.GetProperty("image_embeds")));
    });

    public static TheoryData<string> Layouts => ["tiny-clip", "tiny-clip-cas"];

    private static string Folder(string layout) => layout == "tiny-clip" ? TestPaths.TinyModel : TestPaths.TinyModelClipAsService;

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Image_embeddings_match_pytorch(string layout)
    {
        var reference = s_reference.Value;
        using var model = ClipModel.Load(Folder(layout));
        var count = reference.PixelShape[0];
        var embeddings = new float[count * model.EmbeddingSize];
        model.Image.Encode(reference.Pixels, count, embeddings);

        for (var i = 0; i < count; i++)
            AssertMatches(reference.ImageEmbeds[i], embeddings.AsSpan(i * model.EmbeddingSize, model.EmbeddingSize), $"{layout} image {i}");
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Text_embeddings_from_the_csharp_tokenizer_match_pytorch(string layout)
    {
        var reference = s_reference.Value;
        using var model = ClipModel.Load(Folder(layout));
        // The C# tokenizer must produce the ids PyTorch was given (the eot-padded reference, unpadded here).
        for (var i = 0; i < reference.Texts.Length; i++)
        {
            var ids = model.Tokenizer.Tokenize(reference.Texts[i], model.ContextLength);
            Assert.Equal(reference.InputIds[i].Take(ids.Length), ids);
        }

        var embeddings = model.EncodeTexts(reference.Texts);
        for (var i = 0; i < reference.Texts.Length; i++)
            AssertMatches(reference.TextEmbeds[i], embeddings.AsSpan(i * model.EmbeddingSize, model.EmbeddingSize), $"{layout} text '{reference.Texts[i]}'");
    }

    [Fact]
    public void Padding_to_the_longest_prompt_or_to_the_context_gives_the_same_embeddings()
    {
        using var model = ClipModel.Load(TestPaths.TinyModel);
        var text = "a photo of a cat";
        var alone = model.EncodeTexts([text]);
        var withLongNeighbour = model.EncodeTexts([text, string.Join(' ', Enumerable.Repeat("word", 60))]);
        AssertMatches(alone, withLongNeighbour.AsSpan(0, model.EmbeddingSize), "padding");
    }

    [Fact]
    public void Concurrent_calls_on_one_session_give_the_sequential_results()
    {
        var reference = s_reference.Value;
        using var model = ClipModel.Load(TestPaths.TinyModel);
        var size = model.EmbeddingSize;
        var expectedImages = new float[reference.PixelShape[0] * size];
        model.Image.Encode(reference.Pixels, reference.PixelShape[0], expectedImages);
        var expectedTexts = model.EncodeTexts(reference.Texts);

        var failures = 0;
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            if (i % 2 == 0)
            {
                var images = new float[expectedImages.Length];
                model.Image.Encode(reference.Pixels, reference.PixelShape[0], images);
                if (!images.AsSpan().SequenceEqual(expectedImages))
                    Interlocked.Increment(ref failures);
            }
            else
            {
                var texts = model.EncodeTexts(reference.Texts);
                if (!texts.AsSpan().SequenceEqual(expectedTexts))
                    Interlocked.Increment(ref failures);
            }
        });
        Assert.Equal(0, failures);
        Assert.Equal(1 + 32, model.Image.Calls);
    }

    [Fact]
    public void Embeddings_are_unit_length()
    {
        using var model = ClipModel.Load(TestPaths.TinyModel);
        var embeddings = model.EncodeTexts(["a", "b c d", ""]);
        for (var i = 0; i < 3; i++)
            Assert.Equal(1.0, TensorPrimitives.Norm(embeddings.AsSpan(i * model.EmbeddingSize, model.EmbeddingSize)), 5);
    }

    [Fact]
    public void The_model_reports_what_it_read_from_the_graphs_and_config()
    {
        using var hf = ClipModel.Load(TestPaths.TinyModel);
        Assert.Equal(32, hf.EmbeddingSize);
        Assert.Equal(77, hf.ContextLength);
        Assert.Equal((32, 32), (hf.Image.Height, hf.Image.Width));
        Assert.Equal(ModelLayout.HuggingFace, hf.Folder.Layout);
        Assert.Equal(100f, hf.Scoring.Scale);
        Assert.Equal("clip", hf.Family.Name);
        Assert.Equal("softmax", hf.Scoring.Name);
        Assert.Equal("CPUExecutionProvider", hf.Provider);
        Assert.Equal(49407, hf.Text.PadId);

        using var cas = ClipModel.Load(TestPaths.TinyModelClipAsService);
        Assert.Equal(ModelLayout.ClipAsService, cas.Folder.Layout);
        Assert.Equal(0, cas.Text.PadId);
        Assert.Equal("built-in OpenAI vocabulary", cas.Folder.TokenizerDescription);
    }

    private void AssertMatches(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        var cosine = TensorPrimitives.CosineSimilarity(expected, actual);
        output.WriteLine($"{what}: cosine {cosine:F8}");
        Assert.True(cosine >= MinCosine, $"{what}: cosine {cosine} < {MinCosine}");
    }
}
