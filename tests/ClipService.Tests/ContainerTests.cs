using System.Diagnostics;
using Xunit.Abstractions;

namespace ClipService.Tests;

/// <summary>
/// deploy/container-test.sh: the CPU image built from the repository's Dockerfile, three replicas behind Debian's
/// HAProxy, load, SIGTERM and SIGKILL (no failed request either time: HAProxy replays them), non-root, read-only root.
/// </summary>
public sealed class ContainerTests(ITestOutputHelper output)
{
    [RequiresTools("podman", "runc", "debootstrap", "haproxy", "curl", RequireRoot = true)]
    public async Task Three_replicas_of_the_image_behind_haproxy_survive_a_drain_and_a_kill()
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(ClipServiceFactory.RepositoryRoot, "deploy", "container-test.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = ClipServiceFactory.RepositoryRoot,
        };
        using var script = Process.Start(start)!;
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        script.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        script.ErrorDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        script.BeginOutputReadLine();
        script.BeginErrorReadLine();
        // The first run builds the stand-in bases and the image: minutes on a busy machine.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(40));
        try
        {
            await script.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM lets the script's trap remove its containers and HAProxy.
            using var term = Process.Start("kill", ["-TERM", $"{script.Id}"]);
            await script.WaitForExitAsync();
        }
        finally
        {
            foreach (var line in lines)
                output.WriteLine(line);
        }

        Assert.True(script.ExitCode == 0, string.Join('\n', lines.TakeLast(30)));
        Assert.Contains(lines, l => l.Contains("PASS:", StringComparison.Ordinal));
    }
}
