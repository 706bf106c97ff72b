using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace ClipService.Tests;

/// <summary>The service as a real process (built next to the tests), as a container or Kubernetes starts it, its
/// output captured.</summary>
internal sealed partial class ServiceProcess : IAsyncDisposable
{
    // Settings that choose the listening address; a started process inherits none of them unless the test sets them.
    private static readonly string[] AddressVariables =
        ["ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "DOTNET_URLS", "DOTNET_HTTP_PORTS", "URLS", "HTTP_PORTS"];

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServiceProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public static string AppPath => Path.Combine(AppContext.BaseDirectory, "ClipService.dll");

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}");

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Standard output so far (the console log).</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>Standard error so far.</summary>
    public string Error
    {
        get
        {
            lock (_error)
                return _error.ToString();
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The service listening on <paramref name="port"/> of the loopback address.</summary>
    public static ServiceProcess Start(int port, params string[] arguments) =>
        Launch([$"--urls=http://127.0.0.1:{port}", .. arguments], port: port);

    /// <summary>Starts the service on a free port and waits until /health/ready answers 200.</summary>
    public static async Task<ServiceProcess> StartReadyAsync(string[]? arguments = null, IDictionary<string, string>? environment = null)
    {
        var port = FreePort();
        var service = Launch([$"--urls=http://127.0.0.1:{port}", .. arguments ?? []], environment, port: port);
        try
        {
            await service.WaitReadyAsync(service.Address);
            return service;
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
    }

    /// <summary>The service (or <paramref name="fileName"/> with these arguments) with only the address settings given.</summary>
    public static ServiceProcess Launch(IEnumerable<string> arguments, IDictionary<string, string>? environment = null, string? fileName = null, int port = 0)
    {
        var start = new ProcessStartInfo(fileName ?? "dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = ClipServiceFactory.RepositoryRoot,
        };
        if (fileName is null)
            start.ArgumentList.Add(AppPath);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var name in AddressVariables)
            start.Environment.Remove(name);
        // Embedding every built-in label set takes ~17 CPU-seconds that these tests don't need (a test's own
        // environment or arguments still win).
        start.Environment["Clip__PrecomputeLabelSets"] = "false";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        var process = new Process { StartInfo = start };
        var service = new ServiceProcess(process, port);
        process.OutputDataReceived += (_, e) => service.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) => Append(service._error, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    private void OnOutput(string? line)
    {
        Append(_output, line);
        if (line is not null && ListeningLine().Match(line) is { Success: true } match)
            _listening.TrySetResult(new Uri(match.Groups[1].Value.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)));
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
            return;
        lock (text)
            text.Append(line).Append('\n');
    }

    /// <summary>The first address the server reported listening on.</summary>
    public Task<Uri> ListeningAsync() => _listening.Task.WaitAsync(TimeSpan.FromSeconds(120));

    public async Task WaitReadyAsync(Uri baseAddress)
    {
        using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await client.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or too busy to answer in time (the machine may be shared).
            }

            Assert.False(_process.HasExited, $"the service exited with {(_process.HasExited ? _process.ExitCode : 0)}:\n{Output}\n{Error}");
            await Task.Delay(100);
        }

        throw new TimeoutException($"not ready within 120 s:\n{Output}\n{Error}");
    }

    /// <summary>Sends SIGTERM, as `docker stop` and Kubernetes do.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    public async Task<int> ExitCodeAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"Now listening on: (\S+)")]
    private static partial Regex ListeningLine();
}
