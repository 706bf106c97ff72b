using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace ClipService.Access;

/// <summary>
/// Re-reads <see cref="ApiKeyOptions.ApiKeysFile"/> every <see cref="PollInterval"/> and swaps the keys when its content
/// changes. Polling the content (not file-system events) also sees Kubernetes' secret updates, which swap a symlink.
/// </summary>
public sealed partial class ApiKeyFileWatcher(ApiKeyStore store, IOptions<ApiKeyOptions> options, ILogger<ApiKeyFileWatcher> logger) : BackgroundService
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.ApiKeysFile is not { Length: > 0 } file)
            return;
        var last = await ReadDigestAsync(file, stoppingToken);
        using var timer = new PeriodicTimer(PollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var content = await File.ReadAllTextAsync(file, stoppingToken);
                    var digest = SHA256.HashData(Encoding.UTF8.GetBytes(content));
                    if (digest.AsSpan().SequenceEqual(last))
                        continue;
                    last = digest;
                    var skipped = store.ReplaceFileKeys(content);
                    LogReloaded(logger, file, store.Count, skipped);
                }
                catch (IOException e)
                {
                    LogUnreadable(logger, file, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static async Task<byte[]> ReadDigestAsync(string file, CancellationToken cancellationToken) =>
        SHA256.HashData(Encoding.UTF8.GetBytes(await File.ReadAllTextAsync(file, cancellationToken)));

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "API keys reloaded from {File}: {Count} key(s) in force, {Skipped} malformed line(s) skipped")]
    private static partial void LogReloaded(ILogger logger, string file, int count, int skipped);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "API key file {File} cannot be read, keeping the previous keys: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string file, string reason);
}
