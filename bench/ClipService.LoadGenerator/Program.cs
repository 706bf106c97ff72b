using System.Diagnostics;
using System.Globalization;
using ClipService.LoadGenerator;

// Load generator for ClipService, and the raw ONNX Runtime baseline it is compared with.
//   http: drive a running service's POST /classify at a concurrency for a duration
//   raw:  run the same vision model straight through ONNX Runtime at given batch sizes
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("""
        ClipService.LoadGenerator http --url http://localhost:8080 --concurrency 1,8,32,64 --duration 20 [--warmup 3] [--labels "a,b,c"] [--image-size 640x480] [--photo PATH: crops of a photo instead of shapes] [--images DIR: every file under DIR instead] [--pid PID: also the service CPU ms per request]
        ClipService.LoadGenerator soak --url http://localhost:8080 --pid PID --capacity 4 [--idle 60]: hardening soak (bench/soak.sh)
        ClipService.LoadGenerator raw --model PATH/onnx/vision_model.onnx --batches 1,8,32 --duration 20 [--threads 0]
        """);
    return 0;
}

var options = Options.Parse(args[1..]);
return args[0] switch
{
    "http" => await HttpLoad.RunAsync(options),
    "raw" => RawOnnx.Run(options),
    "soak" => await Soak.RunAsync(options),
    _ => throw new ArgumentException($"unknown mode {args[0]}"),
};

namespace ClipService.LoadGenerator
{
    internal sealed record Options(Dictionary<string, string> Values)
    {
        public static Options Parse(string[] args)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i + 1 < args.Length; i += 2)
                values[args[i].TrimStart('-')] = args[i + 1];
            return new Options(values);
        }

        public string Get(string name, string fallback) => Values.GetValueOrDefault(name, fallback);

        public int[] Ints(string name, string fallback) =>
            [.. Get(name, fallback).Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))];

        public double Seconds(string name, string fallback) => double.Parse(Get(name, fallback), CultureInfo.InvariantCulture);
    }

    internal static class Percentiles
    {
        public static double Of(List<double> sorted, double p) =>
            sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];

        public static string Row(string what, int count, double seconds, List<double> latenciesMs, string extra = "")
        {
            latenciesMs.Sort();
            return string.Create(CultureInfo.InvariantCulture,
                $"| {what} | {count / seconds:F1} | {Of(latenciesMs, 50):F1} | {Of(latenciesMs, 95):F1} | {Of(latenciesMs, 99):F1} | {extra} |");
        }
    }

    internal static class Clock
    {
        public static double Ms(long start) => Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
}
