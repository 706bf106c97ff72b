using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ClipService.Tests;

/// <summary>The service as a real process (built next to the tests) on a loopback port, its output captured.</summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    private ServiceProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

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

    public static ServiceProcess Start(int port, params string[] arguments) => Start(port, arguments, environment: null);

    /// <summary>Starts the service on a free port and waits (up to 90 s) until /health/ready answers 200.</summary>
    public static async Task<ServiceProcess> StartReadyAsync(string[]? arguments = null, IDictionary<string, string>? environment = null)
    {
        var service = Start(FreePort(), arguments ?? [], environment);
        using var client = new HttpClient { BaseAddress = service.Address };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline && !service.HasExited)
        {
            try
            {
                using var response = await client.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.OK)
                    return service;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(100);
        }

        await service.DisposeAsync();
        throw new InvalidOperationException($"The service did not become ready:\n{service.Output}\n{service.Error}");
    }

    private static ServiceProcess Start(int port, IEnumerable<string> arguments, IDictionary<string, string>? environment)
    {
        var app = Path.Combine(AppContext.BaseDirectory, "ClipService.dll");
        var start = new ProcessStartInfo("dotnet", [app, $"--urls=http://127.0.0.1:{port}",
            // Embedding every built-in label set takes ~17 CPU-seconds that these tests don't need (the last value
            // of a setting wins, so a test can still turn it on).
            "--Clip:PrecomputeLabelSets=false", .. arguments])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = ClipServiceFactory.RepositoryRoot,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        var process = new Process { StartInfo = start };
        var service = new ServiceProcess(process, port);
        process.OutputDataReceived += (_, e) => Append(service._output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(service._error, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
            return;
        lock (text)
            text.Append(line).Append('\n');
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
