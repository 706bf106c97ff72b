namespace JpegDecoders;

internal static class Program
{
    private static int Main(string[] args)
    {
        switch (args)
        {
            case ["exactness"]:
                return Exactness.Run();
            case ["timing"]:
                return Timing.Run(9);
            case ["timing", var rounds] when int.TryParse(rounds, out var n) && n > 0:
                return Timing.Run(n);
            default:
                Console.Error.WriteLine("usage: dotnet run -c Release --project bench/JpegDecoders -- exactness | timing [rounds (default 9)]");
                return 2;
        }
    }
}
