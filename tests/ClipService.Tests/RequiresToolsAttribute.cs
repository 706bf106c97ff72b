namespace ClipService.Tests;

/// <summary>
/// A fact that needs real programs (HAProxy, podman, kubectl, ...): skipped, with the reason printed by the test
/// runner, on a machine that lacks them (tools/install_test_tools.sh installs them).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RequiresToolsAttribute : FactAttribute
{
    public RequiresToolsAttribute(params string[] tools)
    {
        Tools = tools;
        var missing = tools.Where(tool => FindOnPath(tool) is null).ToArray();
        if (missing.Length > 0)
            Skip = $"needs {string.Join(", ", missing)} on PATH (tools/install_test_tools.sh installs it)";
    }

    public IReadOnlyList<string> Tools { get; }

    /// <summary>Also needs root (podman's rootful storage, network namespaces).</summary>
    public bool RequireRoot
    {
        get => field;
        set
        {
            field = value;
            if (value && Skip is null && Environment.UserName != "root")
                Skip = "needs root";
        }
    }

    public static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);
}
