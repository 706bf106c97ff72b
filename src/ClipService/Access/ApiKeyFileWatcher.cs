using ClipService.Diagnostics;
using Microsoft.Extensions.Options;

namespace ClipService.Access;

/// <summary>
/// Re-reads <see cref="ApiKeyOptions.ApiKeysFile"/> every <see cref="PollInterval"/> and swaps the keys when its content
/// changes. Polling the content (not file-system events) also sees Kubernetes' secret updates, which swap a symlink.
/// A file that cannot be read (gone, a directory, no permission) or holds no valid key keeps the last good keys: one
/// Warning per problem and <c>clip_api_keys_reload_failures_total</c> say so. With no key at all, one Warning at start.
/// </summary>
public sealed partial class ApiKeyFileWatcher(ApiKeyStore store, IOptions<ApiKeyOptions> options, ClipMetrics metrics, ILogger<ApiKeyFileWatcher> logger)
    : BackgroundService
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!store.Enabled)
        {
            LogKeysOff(logger);
            return;
        }

        if (options.Value.ApiKeysFile is not { Length: > 0 } path || store.InitialFile is not { } initial)
            return;
        var last = initial.ContentDigest;
        string? problem = null; // the one last reported, so a lasting fault is reported once
        using var timer = new PeriodicTimer(PollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                string? now;
                string reason;
                try
                {
                    var file = await ApiKeyFile.ReadAsync(path, stoppingToken);
                    if (file.ContentDigest.AsSpan().SequenceEqual(last) && problem is null)
                        continue;
                    last = file.ContentDigest;
                    if (store.TryReplaceFileKeys(file))
                    {
                        problem = null;
                        LogReloaded(logger, path, store.Count, file.Skipped);
                        continue;
                    }

                    now = file.Problem(path);
                    reason = "no_valid_key";
                }
                catch (ApiKeyFileException e)
                {
                    now = e.Message;
                    reason = e.Reason;
                }

                if (now == problem)
                    continue;
                problem = now;
                metrics.ApiKeyReloadFailed(reason);
                LogRefused(logger, now!, store.Count);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "API keys reloaded from {File}: {Count} key(s) in force, {Skipped} malformed line(s) skipped")]
    private static partial void LogReloaded(ILogger logger, string file, int count, int skipped);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "API key file refused, keeping the {Count} key(s) in force: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason, int count);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "API keys are off: every client is let in (set Clip:Auth:ApiKeys or Clip:Auth:ApiKeysFile)")]
    private static partial void LogKeysOff(ILogger logger);
}
