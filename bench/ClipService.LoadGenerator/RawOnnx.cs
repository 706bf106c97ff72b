using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace ClipService.LoadGenerator;

/// <summary>The baseline: the vision model run directly with ONNX Runtime, no HTTP, decoding or preprocessing.</summary>
internal static class RawOnnx
{
    public static int Run(Options options)
    {
        var path = options.Get("model", "bench/models/vit-b-32/onnx/vision_model.onnx");
        var duration = TimeSpan.FromSeconds(options.Seconds("duration", "20"));
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = int.Parse(options.Get("threads", "0"), CultureInfo.InvariantCulture),
            InterOpNumThreads = 1,
        };
        using var session = new InferenceSession(path, sessionOptions);
        var (name, input) = session.InputMetadata.First();
        var output = session.OutputMetadata.ContainsKey("image_embeds") ? "image_embeds" : session.OutputMetadata.Keys.First();
        var (height, width) = (input.Dimensions[2], input.Dimensions[3]);
        Console.WriteLine($"{path}: {name} [batch, 3, {height}, {width}] -> {output}, {duration.TotalSeconds:F0} s per batch size");
        Console.WriteLine("| batch | images/s | p50 ms per batch | p95 ms | p99 ms | ms per image |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- |");
        var random = new Random(1);
        foreach (var batch in options.Ints("batches", "1,8,32"))
        {
            var pixels = new float[batch * 3 * height * width];
            for (var i = 0; i < pixels.Length; i++)
                pixels[i] = (float)(random.NextDouble() * 4 - 2);
            using var value = OrtValue.CreateTensorValueFromMemory(pixels, [batch, 3, height, width]);
            using var runOptions = new RunOptions();
            session.Run(runOptions, [name], [value], [output]).Dispose();

            var latencies = new List<double>();
            var started = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(started) < duration)
            {
                var t = Stopwatch.GetTimestamp();
                session.Run(runOptions, [name], [value], [output]).Dispose();
                latencies.Add(Clock.Ms(t));
            }

            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var images = latencies.Count * batch;
            var perImage = (seconds * 1000 / images).ToString("F1", CultureInfo.InvariantCulture);
            Console.WriteLine(Percentiles.Row(batch.ToString(CultureInfo.InvariantCulture), images, seconds, latencies, perImage));
        }

        return 0;
    }
}
