using ClipService.Core.Models;
using ClipService.Core.Scoring;
using ClipService.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using Xunit.Abstractions;

namespace ClipService.Core.Tests.DefaultModel;

/// <summary>
/// The shipped default model classifies for real: fresh images (a seed training never used, drawn by the C#
/// renderer), saved as PNG and as JPEG quality 75 at 48–640 px, square and not, through the service's own
/// path: decode → preprocess → encoders → softmax over label prompts with the default template.
/// </summary>
public sealed class DefaultModelAccuracyTests(ITestOutputHelper output)
{
    private const int Seed = 90210;
    private const int ImagesPerPair = 4;
    private const int BatchSize = 64;

    private sealed record Sample(string Colour, string Shape, string Format, int Width, int Height, byte[] Bytes);

    [Fact]
    public void Top1_accuracy_meets_the_targets_on_unseen_images()
    {
        using var model = ClipModel.Load(TestPaths.DefaultModel);
        var samples = Samples().ToList();
        var pairs = ShapeImageGenerator.ColourNames.SelectMany(c => ShapeImageGenerator.Shapes.Select(s => $"{c} {s}")).ToList();
        var pairText = model.EncodeTexts([.. pairs.Select(p => PromptTemplates.Apply(PromptTemplates.Default, p))]);
        var colourText = model.EncodeTexts([.. ShapeImageGenerator.ColourNames.Select(c => PromptTemplates.Apply(PromptTemplates.Default, c))]);
        var shapeText = model.EncodeTexts([.. ShapeImageGenerator.Shapes.Select(s => PromptTemplates.Apply(PromptTemplates.Default, s))]);

        int pairHits = 0, colourHits = 0, shapeHits = 0, heldOut = 0, heldOutHits = 0;
        var byFormat = new Dictionary<string, (int Hits, int Count)>();
        var size = model.EmbeddingSize;
        var pixels = new float[BatchSize * model.Preprocessor.TensorLength];
        var embeddings = new float[BatchSize * size];
        for (var start = 0; start < samples.Count; start += BatchSize)
        {
            var batch = samples.Skip(start).Take(BatchSize).ToList();
            for (var i = 0; i < batch.Count; i++)
                model.Preprocessor.Preprocess(batch[i].Bytes, pixels.AsSpan(i * model.Preprocessor.TensorLength, model.Preprocessor.TensorLength));
            model.Image.Encode(pixels, batch.Count, embeddings);

            for (var i = 0; i < batch.Count; i++)
            {
                var image = embeddings.AsSpan(i * size, size);
                var sample = batch[i];
                var pair = $"{sample.Colour} {sample.Shape}";
                var pairOk = ZeroShotScorer.Rank(image, pairText, pairs, model.LogitScale)[0].Label == pair;
                pairHits += pairOk ? 1 : 0;
                colourHits += ZeroShotScorer.Rank(image, colourText, ShapeImageGenerator.ColourNames, model.LogitScale)[0].Label == sample.Colour ? 1 : 0;
                shapeHits += ZeroShotScorer.Rank(image, shapeText, ShapeImageGenerator.Shapes, model.LogitScale)[0].Label == sample.Shape ? 1 : 0;
                if (ShapeImageGenerator.HeldOutPairs.Contains(pair))
                {
                    heldOut++;
                    heldOutHits += pairOk ? 1 : 0;
                }

                var (hits, count) = byFormat.GetValueOrDefault(sample.Format);
                byFormat[sample.Format] = (hits + (pairOk ? 1 : 0), count + 1);
            }
        }

        double n = samples.Count;
        output.WriteLine($"default model '{model.Name}', {samples.Count} images (seed {Seed}; {ImagesPerPair} per pair × 48 pairs × PNG and JPEG q75; 48–640 px)");
        output.WriteLine($"top-1, 48 colour×shape labels: {pairHits / n:P1}");
        output.WriteLine($"top-1, 8 colour labels:        {colourHits / n:P1}");
        output.WriteLine($"top-1, 6 shape labels:         {shapeHits / n:P1}");
        output.WriteLine($"top-1, held-out pairs only:    {(double)heldOutHits / heldOut:P1} ({heldOut} images of {ShapeImageGenerator.HeldOutPairs.Count} pairs never seen in training)");
        foreach (var (format, (hits, count)) in byFormat)
            output.WriteLine($"top-1, 48 labels, {format}: {(double)hits / count:P1} ({count} images)");

        Assert.True(pairHits / n >= 0.90, $"colour×shape top-1 {pairHits / n:P1} < 90%");
        Assert.True(colourHits / n >= 0.97, $"colour top-1 {colourHits / n:P1} < 97%");
        Assert.True(shapeHits / n >= 0.95, $"shape top-1 {shapeHits / n:P1} < 95%");
    }

    private static IEnumerable<Sample> Samples()
    {
        var random = new Random(Seed);
        var png = new PngEncoder();
        var jpeg = new JpegEncoder { Quality = 75 };
        foreach (var colour in ShapeImageGenerator.ColourNames)
        {
            foreach (var shape in ShapeImageGenerator.Shapes)
            {
                for (var k = 0; k < ImagesPerPair; k++)
                {
                    var (width, height) = ShapeImageGenerator.RandomSize(random, 48, 640);
                    using var image = ShapeImageGenerator.Render(random, colour, shape, width, height);
                    yield return new Sample(colour, shape, "PNG", width, height, Encode(image, png));
                    yield return new Sample(colour, shape, "JPEG q75", width, height, Encode(image, jpeg));
                }
            }
        }
    }

    private static byte[] Encode(Image image, SixLabors.ImageSharp.Formats.IImageEncoder encoder)
    {
        using var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }
}
