using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace ClipService.Access;

/// <summary>
/// The keys in force: <see cref="ApiKeyOptions.ApiKeys"/> plus the keys of <see cref="ApiKeyOptions.ApiKeysFile"/>
/// (replaced by <see cref="ApiKeyFileWatcher"/> when the file changes, never by a reading with no valid key). Only
/// SHA-256 digests are kept; a presented key is hashed and compared with every digest in constant time, so neither
/// timing nor logs reveal a key.
/// </summary>
public sealed class ApiKeyStore
{
    private readonly byte[][] _configured;
    private volatile byte[][] _fromFile = [];

    public ApiKeyStore(IOptions<ApiKeyOptions> options)
    {
        _configured = [.. options.Value.ApiKeys.Select(Digest)];
        // The options validator has read the file at start; one that has since become unusable still fails the start.
        if (options.Value.ApiKeysFile is { Length: > 0 } path)
        {
            var file = ApiKeyFile.Read(path);
            if (!TryReplaceFileKeys(file))
                throw new InvalidOperationException($"{ApiKeyOptions.SectionName}:{nameof(ApiKeyOptions.ApiKeysFile)}: {file.Problem(path)}.");
            InitialFile = file;
        }
    }

    /// <summary>The key file's reading the store started with, if a file is configured.</summary>
    internal ApiKeyFile? InitialFile { get; }

    /// <summary>True when at least one key is configured, so requests need one.</summary>
    public bool Enabled => _configured.Length > 0 || _fromFile.Length > 0;

    public int Count => _configured.Length + _fromFile.Length;

    public static bool IsWellFormed(string? key) =>
        key is { Length: >= ApiKeyOptions.MinimumKeyLength } && !key.Any(char.IsWhiteSpace);

    /// <summary>Whether <paramref name="key"/> is one of the keys in force.</summary>
    public bool IsValid(string key)
    {
        var digest = Digest(key);
        var match = false;
        foreach (var known in _configured.Concat(_fromFile))
            match |= CryptographicOperations.FixedTimeEquals(digest, known);
        return match;
    }

    /// <summary>What logs and rate limits call the client with <paramref name="key"/>: a short hash, never the key.</summary>
    public static string ClientId(string key) => "key-" + Convert.ToHexStringLower(Digest(key).AsSpan(0, 4));

    /// <summary>Puts the file's keys in force, unless it holds none: then the keys in force stay.</summary>
    /// <returns>False when <paramref name="file"/> was refused.</returns>
    public bool TryReplaceFileKeys(ApiKeyFile file)
    {
        if (file.Digests.Length == 0)
            return false;
        _fromFile = file.Digests;
        return true;
    }

    internal static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
