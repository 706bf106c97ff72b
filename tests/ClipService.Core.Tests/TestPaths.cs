namespace ClipService.Core.Tests;

/// <summary>Files of the repository the tests read in place (models and reference data are committed).</summary>
internal static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Assets => Path.Combine(RepositoryRoot, "tests", "assets");
    public static string TinyModel => Path.Combine(Assets, "models", "tiny-clip");
    public static string TinyModelClipAsService => Path.Combine(Assets, "models", "tiny-clip-cas");
    public static string DefaultModel => Path.Combine(RepositoryRoot, "models", "clip-shapes");

    public static string Asset(params string[] parts) => Path.Combine([Assets, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ClipService.sln")))
                return dir.FullName;
        }

        throw new InvalidOperationException($"No ClipService.sln above {AppContext.BaseDirectory}.");
    }
}
