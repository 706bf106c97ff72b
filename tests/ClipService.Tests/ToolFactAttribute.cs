namespace ClipService.Tests;

/// <summary>A fact that needs an external program (from tools/install_test_tools.sh): skipped, saying so, when it is not on the PATH.</summary>
public sealed class ToolFactAttribute : FactAttribute
{
    public ToolFactAttribute(string tool)
    {
        if (ExternalTool.Find(tool) is null)
            Skip = $"'{tool}' is not installed (tools/install_test_tools.sh installs it); this test drives the real one.";
    }
}

internal static class ExternalTool
{
    /// <summary>The full path of <paramref name="tool"/> on the PATH, or null.</summary>
    public static string? Find(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);
}
