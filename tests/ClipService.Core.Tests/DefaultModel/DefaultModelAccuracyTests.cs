using ClipService.Core.Models;
using ClipService.Core.Scoring;
using ClipService.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using Xunit.Abstractions;

namespace ClipService.Core.Tests.DefaultModel;

/// <summary>
/// The shipped default model classifies for real: pictures it never saw, through the service's own path
/// (decode → preprocess → encoders → softmax over label prompts with the default template). The thresholds are
/// the figures measured for the shipped model (models/clip-shapes/README.md) less a small margin.
/// </summary>
public sealed class DefaultModelAccuracyTests(ITestOutputHelper output)
{
    private const int BatchSize = 64;

    private static readonly IReadOnlyList<string> Colours = ShapeImageGenerator.ColourNames;
    private static readonly IReadOnlyList<string> Shapes = ShapeImageGenerator.Shapes;

    private sealed record Sample(string Colour, string Shape, string Format, byte[] Bytes)
    {
        public string Pair => $"{Colour} {Shape}";
    }

    private sealed record Prediction(Sample Sample, string Pair, string Colour, string Shape);

    /// <summary>Top-1 over the 48 pairs, the 8 colours and the 6 shapes, and the worst pair's.</summary>
    private sealed record Accuracy(double Pairs, double Colours, double Shapes, double WorstClass);

    /// <summary>
    /// The independent generator (tests/Shared/VariedShapeImageGenerator.cs): another rasteriser, RNG, colour
    /// model, textures and JPEG encoder than training's; 10 pictures per colour×shape pair.
    /// </summary>
    [Fact]
    public void Varied_pictures_from_an_independent_generator_meet_the_targets()
    {
        const int seed = 20261201;
        const int perPair = 10;
        var random = new Random(seed);
        var samples = (from colour in Colours
                       from shape in Shapes
                       from k in Enumerable.Range(0, perPair)
                       select VariedShapeImageGenerator.Create(random, colour, shape)
                       into picture
                       select new Sample(picture.Colour, picture.Shape, picture.Format, picture.Bytes)).ToList();

        output.WriteLine($"independent generator, seed {seed}: {samples.Count} pictures ({perPair} per pair; 48–640 px, PNG / JPEG q55–95)");
        // Measured 97.1% / 99.2% / 97.9%, worst class 9/10 (the targets: 95 / 98 / 97%, no class under 80%).
        AssertAtLeast(Report(Classify(samples)), new Accuracy(Pairs: 0.955, Colours: 0.98, Shapes: 0.965, WorstClass: 0.8));
    }

    /// <summary>
    /// The flat pictures the service tests draw (tests/Shared/ShapeImageGenerator.cs), as PNG and JPEG q75.
    /// </summary>
    [Fact]
    public void Plain_pictures_meet_the_targets()
    {
        const int seed = 90210;
        const int perPair = 4;
        var random = new Random(seed);
        var png = new PngEncoder();
        var jpeg = new JpegEncoder { Quality = 75 };
        var samples = new List<Sample>();
        foreach (var colour in Colours)
        {
            foreach (var shape in Shapes)
            {
                for (var k = 0; k < perPair; k++)
                {
                    var (width, height) = ShapeImageGenerator.RandomSize(random, 48, 640);
                    using var image = ShapeImageGenerator.Render(random, colour, shape, width, height);
                    samples.Add(new Sample(colour, shape, "PNG", Encode(image, png)));
                    samples.Add(new Sample(colour, shape, "JPEG q75", Encode(image, jpeg)));
                }
            }
        }

        output.WriteLine($"plain generator, seed {seed}: {samples.Count} pictures ({perPair} per pair × PNG and JPEG q75; 48–640 px)");
        // Measured 98.7% / 99.0% / 99.7%, worst class 6/8.
        AssertAtLeast(Report(Classify(samples)), new Accuracy(Pairs: 0.97, Colours: 0.975, Shapes: 0.985, WorstClass: 0.625));
    }

    private static void AssertAtLeast(Accuracy measured, Accuracy floor)
    {
        Assert.True(measured.Pairs >= floor.Pairs, $"colour×shape top-1 {measured.Pairs:P1} < {floor.Pairs:P1}");
        Assert.True(measured.Colours >= floor.Colours, $"colour top-1 {measured.Colours:P1} < {floor.Colours:P1}");
        Assert.True(measured.Shapes >= floor.Shapes, $"shape top-1 {measured.Shapes:P1} < {floor.Shapes:P1}");
        Assert.True(measured.WorstClass >= floor.WorstClass, $"a class at {measured.WorstClass:P0} < {floor.WorstClass:P0}");
    }

    private static List<Prediction> Classify(List<Sample> samples)
    {
        using var model = ClipModel.Load(TestPaths.DefaultModel);
        var pairLabels = Colours.SelectMany(c => Shapes.Select(s => $"{c} {s}")).ToList();
        var pairText = model.EncodeTexts([.. pairLabels.Select(Prompt)]);
        var colourText = model.EncodeTexts([.. Colours.Select(Prompt)]);
        var shapeText = model.EncodeTexts([.. Shapes.Select(Prompt)]);

        var predictions = new List<Prediction>(samples.Count);
        var size = model.EmbeddingSize;
        var tensorLength = model.Preprocessor.TensorLength;
        var pixels = new float[BatchSize * tensorLength];
        var embeddings = new float[BatchSize * size];
        foreach (var batch in samples.Chunk(BatchSize))
        {
            for (var i = 0; i < batch.Length; i++)
                model.Preprocessor.Preprocess(batch[i].Bytes, pixels.AsSpan(i * tensorLength, tensorLength));
            model.Image.Encode(pixels, batch.Length, embeddings);
            for (var i = 0; i < batch.Length; i++)
            {
                var image = embeddings.AsSpan(i * size, size);
                predictions.Add(new Prediction(batch[i],
                    ZeroShotScorer.Rank(image, pairText, pairLabels, model.Scoring)[0].Label,
                    ZeroShotScorer.Rank(image, colourText, Colours, model.Scoring)[0].Label,
                    ZeroShotScorer.Rank(image, shapeText, Shapes, model.Scoring)[0].Label));
            }
        }

        return predictions;
    }

    /// <summary>Writes the model card's figures.</summary>
    private Accuracy Report(List<Prediction> predictions)
    {
        static double Rate(IEnumerable<Prediction> ps, Func<Prediction, bool> hit) => ps.Count(hit) / (double)ps.Count();
        static bool PairHit(Prediction p) => p.Pair == p.Sample.Pair;

        var pairs = Rate(predictions, PairHit);
        var colours = Rate(predictions, p => p.Colour == p.Sample.Colour);
        var shapes = Rate(predictions, p => p.Shape == p.Sample.Shape);
        output.WriteLine($"top-1, 48 colour×shape labels: {pairs:P1} ({predictions.Count(PairHit)}/{predictions.Count})");
        output.WriteLine($"top-1, 8 colour labels:        {colours:P1}");
        output.WriteLine($"top-1, 6 shape labels:         {shapes:P1}");
        foreach (var format in predictions.GroupBy(p => p.Sample.Format))
            output.WriteLine($"top-1, 48 labels, {format.Key}: {Rate(format, PairHit):P1} ({format.Count()} pictures)");
        output.WriteLine("48-label top-1 by colour: " + string.Join(", ", Colours.Select(c =>
            $"{c} {Rate(predictions.Where(p => p.Sample.Colour == c), PairHit):P1}")));
        output.WriteLine("48-label top-1 by shape:  " + string.Join(", ", Shapes.Select(s =>
            $"{s} {Rate(predictions.Where(p => p.Sample.Shape == s), PairHit):P1}")));

        var perClass = predictions.GroupBy(p => p.Sample.Pair).Select(g => (Pair: g.Key, Hits: g.Count(PairHit), Count: g.Count())).ToList();
        output.WriteLine("per class (hits/pictures): " + string.Join(", ", perClass.Select(c => $"{c.Pair} {c.Hits}/{c.Count}")));
        var confusions = predictions.Where(p => !PairHit(p)).GroupBy(p => $"{p.Sample.Pair} → {p.Pair}")
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal);
        output.WriteLine("confusions: " + string.Join(", ", confusions.Select(g => $"{g.Key} ×{g.Count()}")));
        return new Accuracy(pairs, colours, shapes, perClass.Min(c => c.Hits / (double)c.Count));
    }

    private static string Prompt(string label) => PromptTemplates.Apply(PromptTemplates.Default, label);

    private static byte[] Encode(Image image, SixLabors.ImageSharp.Formats.IImageEncoder encoder)
    {
        using var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }
}
