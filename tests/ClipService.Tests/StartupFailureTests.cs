using System.Net;
using System.Net.Sockets;

namespace ClipService.Tests;

/// <summary>
/// The real process, started with settings or model folders that cannot work: it must exit with code 1 and one
/// line on stderr naming the cause, print no stack trace, and never have answered HTTP.
/// </summary>
public sealed class StartupFailureTests : IDisposable
{
    private readonly string _models = Directory.CreateTempSubdirectory("startup-models-").FullName;

    public void Dispose() => Directory.Delete(_models, recursive: true);

    private sealed record Outcome(int ExitCode, string[] ErrorLines, string Output, bool AnsweredHttp);

    /// <summary>Runs the service until it exits, asking /health/live on <paramref name="port"/> all the while.</summary>
    private static async Task<Outcome> RunServiceAsync(int port, params string[] arguments)
    {
        await using var service = ServiceProcess.Start(port, arguments);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var answered = false;
        while (!service.HasExited)
        {
            try
            {
                using var live = await http.GetAsync(new Uri(service.Address, "/health/live"), timeout.Token);
                answered = true;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!timeout.IsCancellationRequested)
            {
            }

            await Task.Delay(20, timeout.Token);
        }

        await service.WaitForExitAsync(timeout.Token);
        return new Outcome(service.ExitCode, service.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries), service.Output, answered);
    }

    private static void AssertOneLineFailure(Outcome outcome, string expected)
    {
        Assert.Equal(1, outcome.ExitCode);
        var line = Assert.Single(outcome.ErrorLines);
        Assert.StartsWith("ClipService cannot start: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", outcome.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening on", outcome.Output, StringComparison.Ordinal);
        Assert.False(outcome.AnsweredHttp, "/health/live answered before the process gave up");
    }

    private string CopyOfTinyModel()
    {
        var source = Path.Combine(ClipServiceFactory.TestModels, "tiny-clip");
        var copy = Path.Combine(_models, "tiny-clip");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(copy, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        return copy;
    }

    [Fact]
    public async Task A_port_in_use_is_named()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;
        var outcome = await RunServiceAsync(port, $"--Clip:ModelsPath={Path.Combine(ClipServiceFactory.TestModels, "tiny-clip")}");
        Assert.Equal(1, outcome.ExitCode);
        var line = Assert.Single(outcome.ErrorLines);
        Assert.Contains($"127.0.0.1:{port}: address already in use", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_port_in_use_stops_the_warm_up_and_precompute_before_the_models_are_disposed()
    {
        // The default model warms up at each batch size up to 1024 (about a second) and precomputes its label sets: work that, before #24,
        // went on running on the disposed ONNX sessions after the failure (and once crashed with a stack trace).
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;
        var outcome = await RunServiceAsync(port, $"--Clip:ModelsPath={Path.Combine(ClipServiceFactory.RepositoryRoot, "models")}",
            "--Clip:Batching:MaxBatchSize=1024", "--Clip:PrecomputeLabelSets=true");
        Assert.Equal(1, outcome.ExitCode);
        var line = Assert.Single(outcome.ErrorLines);
        Assert.Contains($"127.0.0.1:{port}: address already in use", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", outcome.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", outcome.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Ready:", outcome.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Draining", outcome.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--Clip:MaxRequestBytes=-5", "MaxRequestBytes must be between")]
    [InlineData("--Clip:MaxRequestBytes=abc", "'abc' at 'Clip:MaxRequestBytes'")]
    [InlineData("--Clip:Connections:MaxConcurrentConnections=0", "MaxConcurrentConnections must be between")]
    [InlineData("--Clip:Connections:MinRequestBodyBytesPerSecond=-1", "MinRequestBodyBytesPerSecond must be between")]
    [InlineData("--urls=http://999.1.1.1:notaport", "'999.1.1.1' is not an IPv4 address")]
    [InlineData("--urls=http://127.0.0.1:notaport", "the port 'notaport' is not a number")]
    [InlineData("--urls=http://127.0.0.1:70000", "the port '70000' is not a number")]
    [InlineData("--urls=ftp://127.0.0.1:21", "the scheme 'ftp' is neither http nor https")]
    [InlineData("--urls=http://[::1:8080", "no closing ']'")]
    public async Task Invalid_settings_and_listen_addresses_stop_the_start(string argument, string expected)
    {
        var outcome = await RunServiceAsync(ServiceProcess.FreePort(), $"--Clip:ModelsPath={Path.Combine(ClipServiceFactory.TestModels, "tiny-clip")}", argument);
        AssertOneLineFailure(outcome, expected);
    }

    [Fact]
    public async Task A_corrupt_onnx_graph_stops_the_start_before_health_answers()
    {
        var folder = CopyOfTinyModel();
        var graph = Path.Combine(folder, "onnx", "vision_model.onnx");
        File.WriteAllBytes(graph, File.ReadAllBytes(graph)[..4096]);
        var outcome = await RunServiceAsync(ServiceProcess.FreePort(), $"--Clip:ModelsPath={_models}");
        AssertOneLineFailure(outcome, $"Model folder '{folder}' could not be loaded");
        Assert.Contains("vision_model.onnx", outcome.ErrorLines[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"projection_dim\": \"512\"}", "'projection_dim' must be an integer")]
    [InlineData("{\"text_config\": {\"vocab_size\": [49408]}}", "'vocab_size' must be an integer")]
    [InlineData("[]", "is not a JSON object")]
    public async Task A_config_value_of_the_wrong_type_stops_the_start_naming_the_file_and_the_field(string config, string expected)
    {
        var folder = CopyOfTinyModel();
        File.WriteAllText(Path.Combine(folder, "config.json"), config);
        var outcome = await RunServiceAsync(ServiceProcess.FreePort(), $"--Clip:ModelsPath={_models}");
        AssertOneLineFailure(outcome, expected);
        Assert.Contains(Path.Combine(folder, "config.json"), outcome.ErrorLines[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_tokenizer_stops_the_start_naming_the_folder()
    {
        var folder = CopyOfTinyModel();
        File.WriteAllText(Path.Combine(folder, "vocab.json"), "{ \"not\": \"a vocabulary\"");
        var outcome = await RunServiceAsync(ServiceProcess.FreePort(), $"--Clip:ModelsPath={_models}");
        AssertOneLineFailure(outcome, folder);
    }

    [Theory]
    [InlineData("", "holds no valid key (0 malformed line(s))")]
    [InlineData("# rotated\nshort\nhas a space 0123456789abcdef\n", "holds no valid key (2 malformed line(s))")]
    [InlineData(null, "cannot be read")]
    public async Task A_key_file_with_no_valid_key_stops_the_start_instead_of_opening_the_api(string? content, string expected)
    {
        var file = Path.Combine(_models, "keys.txt");
        if (content is null)
            Directory.CreateDirectory(file);
        else
            File.WriteAllText(file, content);
        var outcome = await RunServiceAsync(ServiceProcess.FreePort(),
            $"--Clip:ModelsPath={Path.Combine(ClipServiceFactory.TestModels, "tiny-clip")}", $"--Clip:Auth:ApiKeysFile={file}");
        AssertOneLineFailure(outcome, expected);
        Assert.Contains("Clip:Auth:ApiKeysFile", outcome.ErrorLines[0], StringComparison.Ordinal);
    }
}
