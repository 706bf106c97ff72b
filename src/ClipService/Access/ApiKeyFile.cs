using System.Security.Cryptography;
using System.Text;

namespace ClipService.Access;

/// <summary>
/// One reading of <see cref="ApiKeyOptions.ApiKeysFile"/>: the digests of its well-formed keys (one per line, blank lines
/// and lines starting with # ignored) and how many lines were malformed. A reading with no valid key is never put in
/// force: an empty or garbled file must not turn access control off.
/// </summary>
public sealed record ApiKeyFile(byte[][] Digests, int Skipped, byte[] ContentDigest)
{
    public static ApiKeyFile Parse(string content)
    {
        var lines = content.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith('#')).ToList();
        return new ApiKeyFile([.. lines.Where(ApiKeyStore.IsWellFormed).Select(ApiKeyStore.Digest)],
            lines.Count(l => !ApiKeyStore.IsWellFormed(l)), SHA256.HashData(Encoding.UTF8.GetBytes(content)));
    }

    /// <summary>Reads and parses <paramref name="path"/>.</summary>
    /// <exception cref="ApiKeyFileException">It cannot be read (missing, a directory, no permission).</exception>
    public static async Task<ApiKeyFile> ReadAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return Parse(await File.ReadAllTextAsync(path, cancellationToken));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            throw new ApiKeyFileException($"the file '{path}' cannot be read: {e.Message}", "unreadable", e);
        }
    }

    /// <inheritdoc cref="ReadAsync"/>
    public static ApiKeyFile Read(string path)
    {
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            throw new ApiKeyFileException($"the file '{path}' cannot be read: {e.Message}", "unreadable", e);
        }
    }

    /// <summary>Why this reading cannot be put in force, or null when it can.</summary>
    public string? Problem(string path) => Digests.Length > 0
        ? null
        : $"the file '{path}' holds no valid key ({Skipped} malformed line(s)); every key must be at least {ApiKeyOptions.MinimumKeyLength} characters with no spaces";
}

/// <summary>The key file cannot be read; <see cref="Reason"/> is the metric's label.</summary>
public sealed class ApiKeyFileException(string message, string reason, Exception inner) : Exception(message, inner)
{
    public string Reason { get; } = reason;
}
