using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace ClipService.Hosting;

/// <summary>
/// Graceful drain on SIGTERM (or any stop of a listening process): readiness turns 503 at once while the listener keeps
/// serving for <see cref="ShutdownOptions.DrainDelaySeconds"/>, so load balancers and Kubernetes stop routing here;
/// then the server stops accepting and in-flight requests get <see cref="ShutdownOptions.TimeoutSeconds"/> to finish
/// (the host's shutdown timeout). Exit code 0 when they all finished, <see cref="AbortedExitCode"/> when some were cut off.
/// </summary>
public sealed partial class GracefulDrain(
    DrainState state,
    IServer server,
    IHostApplicationLifetime lifetime,
    IOptions<ShutdownOptions> options,
    ILogger<GracefulDrain> logger) : IHostedLifecycleService
{
    public const int AbortedExitCode = 3;

    private CancellationTokenRegistration _onTimeout;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        // A start that failed (a port in use) has nothing to drain.
        if (!lifetime.ApplicationStarted.IsCancellationRequested || !state.BeginDraining())
            return;
        var settings = options.Value;
        // The in-memory test server has no listener for a balancer to drain from: stop at once there.
        var listens = server.Features.Get<IServerAddressesFeature>()?.Addresses.Count > 0;
        var delay = listens ? settings.DrainDelaySeconds : 0;
        LogDraining(logger, delay, settings.TimeoutSeconds, state.InFlight);
        // The token fires when the host's shutdown timeout (drain delay + timeout) runs out; the server aborts what
        // is still running then.
        _onTimeout = cancellationToken.Register(OnShutdownTimeout);
        if (delay > 0)
            await Task.Delay(TimeSpan.FromSeconds(delay), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        LogListenerClosing(logger, state.InFlight);
    }

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        _onTimeout.Dispose();
        if (state.IsDraining && Environment.ExitCode != AbortedExitCode)
            LogDrained(logger);
        return Task.CompletedTask;
    }

    private void OnShutdownTimeout()
    {
        var running = state.InFlight;
        if (running == 0)
            return;
        LogAborting(logger, running, options.Value.TimeoutSeconds);
        Environment.ExitCode = AbortedExitCode;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 8001, Level = LogLevel.Information,
        Message = "Draining: readiness answers 503; serving continues for {DrainDelaySeconds} s, then in-flight requests get {TimeoutSeconds} s to finish ({InFlight} in flight now)")]
    private static partial void LogDraining(ILogger logger, int drainDelaySeconds, int timeoutSeconds, int inFlight);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Information, Message = "Drain delay over: closing the listener with {InFlight} requests in flight")]
    private static partial void LogListenerClosing(ILogger logger, int inFlight);

    [LoggerMessage(EventId = 8003, Level = LogLevel.Information, Message = "Drained: every request finished")]
    private static partial void LogDrained(ILogger logger);

    [LoggerMessage(EventId = 8004, Level = LogLevel.Error, Message = "Shutdown timeout: aborting {InFlight} requests still running after {TimeoutSeconds} s")]
    private static partial void LogAborting(ILogger logger, int inFlight, int timeoutSeconds);
}
