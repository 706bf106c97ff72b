using System.Text.RegularExpressions;

namespace ClipService.ModelFetching;

/// <summary>
/// What fetch-model accepts from its command line before anything touches the network or the disk: repository ids
/// and folder names by huggingface_hub's rules (<c>validate_repo_id</c>), commit ids, hub addresses.
/// </summary>
public static partial class HubNames
{
    /// <summary>huggingface_hub's limit for a repository name (and the namespace's, by the same pattern).</summary>
    public const int MaxNameLength = 96;

    // A word character first and last, letters, digits, '_', '.', '-' between: as huggingface_hub's
    // `\b[\w\-.]{1,96}\b`, but ASCII only (a folder name must mean the same on every file system).
    [GeneratedRegex(@"^[A-Za-z0-9_](?:[A-Za-z0-9_.\-]{0,94}[A-Za-z0-9_])?$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[0-9a-fA-F]{40}$", RegexOptions.CultureInvariant)]
    private static partial Regex CommitPattern();

    /// <summary>Checks an id of the form <c>name</c> or <c>namespace/name</c>.</summary>
    /// <exception cref="ArgumentException">Not a valid repository id; the message says which rule it breaks.</exception>
    public static void ValidateRepository(string repository)
    {
        var parts = repository.Split('/');
        if (parts.Length > 2)
            throw new ArgumentException($"repository '{Shorten(repository)}' must be NAME or NAMESPACE/NAME.");
        foreach (var part in parts)
            ValidateName(part, "repository");
        if (repository.EndsWith(".git", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"repository '{Shorten(repository)}' must not end with '.git'.");
    }

    /// <summary>Checks a model folder name (<c>--name</c>): one path segment by the same rules as a repository name.</summary>
    /// <exception cref="ArgumentException">Not a valid name.</exception>
    public static void ValidateFolderName(string name) => ValidateName(name, "--name");

    /// <returns>The commit id in lower case.</returns>
    /// <exception cref="ArgumentException">Not 40 hexadecimal digits (a branch or tag name is not a pin).</exception>
    public static string ValidateRevision(string revision) =>
        CommitPattern().IsMatch(revision)
            ? revision.ToLowerInvariant()
            : throw new ArgumentException($"--revision '{Shorten(revision)}' is not a commit id (40 hexadecimal digits); a branch or tag can move, so it is not a pin.");

    /// <summary>The hub's address as a base URI (ending in '/').</summary>
    /// <exception cref="ArgumentException">Not an absolute http(s) URL, or plain http without <paramref name="allowInsecure"/>.</exception>
    public static Uri ValidateEndpoint(string endpoint, bool allowInsecure)
    {
        if (!Uri.TryCreate(endpoint.TrimEnd('/') + "/", UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            throw new ArgumentException($"endpoint '{Shorten(endpoint)}' is not an http(s) URL without credentials, query or fragment.");
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !allowInsecure)
            throw new ArgumentException($"endpoint '{Shorten(endpoint)}' is plain http, where anyone on the path can change the files and the hashes they are checked against; use https, or pass --allow-insecure-endpoint for a trusted mirror.");
        return uri;
    }

    /// <summary>The repository id as URL path segments, each escaped.</summary>
    public static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    private static void ValidateName(string name, string what)
    {
        if (name.Length > MaxNameLength)
            throw new ArgumentException($"{what} '{Shorten(name)}' is longer than {MaxNameLength} characters.");
        if (!NamePattern().IsMatch(name))
            throw new ArgumentException($"{what} '{Shorten(name)}' may hold only letters, digits, '_', '.' and '-', and must start and end with a letter, digit or '_'.");
        if (name.Contains("..", StringComparison.Ordinal) || name.Contains("--", StringComparison.Ordinal))
            throw new ArgumentException($"{what} '{Shorten(name)}' must not contain '..' or '--'.");
    }

    // Echoing a hostile argument whole would let it fill the terminal; control characters are shown escaped.
    private static string Shorten(string value)
    {
        var shown = value.Length <= 120 ? value : value[..120] + "…";
        return string.Concat(shown.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }
}
