using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ClipService.ModelFetching;

/// <summary>What to fetch and where.</summary>
public sealed record FetchRequest(string Repository, string Revision, string ModelsPath, string Precision = "fp32", string? Name = null, bool Force = false)
{
    public const string DefaultEndpoint = "https://huggingface.co";
    public const string XenovaClipB32 = "Xenova/clip-vit-base-patch32";

    /// <summary>The commit of Xenova/clip-vit-base-patch32 the project pins (files verified against its tree).</summary>
    public const string XenovaClipB32Revision = "d15189d7028b43f1d3e65039190477f6af591c2a";

    /// <summary>ONNX Runtime reads a graph of at most 2 GiB from one file (protobuf's limit).</summary>
    public const long DefaultMaxFileBytes = 2L << 30;

    /// <summary>Tokenizer and config files are parsed in memory; real ones are a few MB.</summary>
    public const long MaxMetadataFileBytes = 64L << 20;

    /// <summary>Largest file accepted: a larger size in the tree is refused before downloading, a longer body cut off.</summary>
    public long MaxFileBytes { get; init; } = DefaultMaxFileBytes;

    /// <summary>Digests the code expects (<see cref="PinnedModels"/>); null: trust the hub's tree listing.</summary>
    public IReadOnlyDictionary<string, PinnedFile>? Pinned { get; init; }

    /// <summary>Every file fetched must have a digest in <see cref="Pinned"/> (true), or only those it names are
    /// checked against it and the rest against the hub's tree listing alone (false).</summary>
    public bool EveryFilePinned { get; init; } = true;

    /// <summary>Exactly the files to fetch (each must be in the revision's tree); null: the precision's two encoders
    /// in the transformers.js layout and whichever tokenizer/config files the tree has.</summary>
    public IReadOnlyList<string>? Files { get; init; }

    /// <summary>What the pin covers, in words, for fetched.json (<see cref="PinnedModel.PinDescription"/>).</summary>
    public string? PinDescription { get; init; }
}

/// <summary>
/// Downloads a CLIP model folder from a Hugging Face–compatible hub at a pinned revision and verifies every file
/// against the hashes the hub publishes for that revision's tree (SHA-256 for LFS files such as the ONNX graphs,
/// the git blob SHA-1 for small files) and, where the code pins the revision, against the pinned digests too. The
/// folder appears only when every file checked out; a lock file (fetched.json) records the revision and each
/// file's SHA-256. Nothing is written outside the models folder's own sub-folder for the model.
/// </summary>
public sealed class ModelFetcher(HttpClient http, Uri endpoint, TextWriter log)
{
    private const long MaxTreeListingBytes = 16L << 20;
    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    private static readonly string[] MetadataFiles =
        ["config.json", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt"];

    public sealed record TreeEntry(
        [property: JsonPropertyName("type")] string Type,
        [property: JsonPropertyName("path")] string Path,
        [property: JsonPropertyName("oid")] string Oid,
        [property: JsonPropertyName("size")] long Size,
        [property: JsonPropertyName("lfs")] LfsInfo? Lfs);

    public sealed record LfsInfo([property: JsonPropertyName("oid")] string Oid, [property: JsonPropertyName("size")] long Size);

    public async Task<string> FetchAsync(FetchRequest request, CancellationToken cancellationToken)
    {
        HubNames.ValidateRepository(request.Repository);
        var revision = HubNames.ValidateRevision(request.Revision);
        var suffix = PrecisionSuffix(request.Precision);
        var name = request.Name ?? request.Repository.Split('/')[^1];
        HubNames.ValidateFolderName(name);
        var modelsPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(request.ModelsPath));
        var target = ModelFolderIn(modelsPath, name);
        if (Directory.Exists(target) && !request.Force)
            throw new InvalidOperationException($"{target} already exists; pass --force to replace it.");
        if (new DirectoryInfo(target).LinkTarget is not null)
            throw new InvalidOperationException($"{target} is a symbolic link; remove it yourself rather than have fetch-model replace what it points at.");

        var tree = await TreeAsync(request.Repository, revision, cancellationToken);
        var wanted = request.Files is { } listed ? FilesFromList(request, revision, listed, tree) : DefaultFiles(request, revision, suffix, tree);
        foreach (var path in wanted)
            CheckBeforeDownload(request, tree[path]);

        Directory.CreateDirectory(modelsPath);
        var staging = Path.Combine(modelsPath, $".fetch-{name}-{Guid.NewGuid():N}");
        var locked = new SortedDictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var path in wanted)
            {
                var entry = tree[path];
                var destination = Path.Combine(staging, path);
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                await log.WriteLineAsync($"  {path} ({ExpectedSize(entry):N0} bytes)");
                locked[path] = await DownloadVerifiedAsync(request.Repository, revision, entry, destination, cancellationToken);
                if (request.Pinned?.GetValueOrDefault(path) is { Algorithm: PinAlgorithm.ContentSha256 } contentPin
                    && !string.Equals(contentPin.Digest, locked[path], StringComparison.OrdinalIgnoreCase))
                    throw new InvalidDataException($"{path}: SHA-256 {locked[path]} does not match the {contentPin.Digest} the code pins for this revision.");
            }

            var lockFile = new
            {
                repository = request.Repository,
                revision,
                endpoint = endpoint.ToString(),
                pinned_in_code = request.Pinned is not null,
                pin = request.PinDescription,
                sha256 = locked,
            };
            await File.WriteAllTextAsync(Path.Combine(staging, "fetched.json"),
                JsonSerializer.Serialize(lockFile, IndentedJson), cancellationToken);
            ReplaceFolder(staging, target);
            return target;
        }
        finally
        {
            if (Directory.Exists(staging))
                Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>The file-name suffix of a precision variant in the transformers.js layout.</summary>
    /// <exception cref="ArgumentException">Not fp32, fp16 or quantized.</exception>
    public static string PrecisionSuffix(string precision) => precision switch
    {
        "fp32" => "",
        "fp16" => "_fp16",
        "quantized" => "_quantized",
        _ => throw new ArgumentException($"precision must be fp32, fp16 or quantized; got '{precision}'."),
    };

    /// <summary>The commit a branch of <paramref name="repository"/> is at now (the hub's revision API).</summary>
    /// <exception cref="InvalidDataException">The hub's answer names no commit id.</exception>
    public async Task<string> ResolveBranchAsync(string repository, string branch, CancellationToken cancellationToken)
    {
        HubNames.ValidateRepository(repository);
        var uri = new Uri(endpoint, $"api/models/{HubNames.EscapePath(repository)}/revision/{Uri.EscapeDataString(branch)}");
        using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        await CopyCappedAsync(body, buffer, MaxTreeListingBytes, [], cancellationToken, $"{repository}'s revision {branch}");
        using var document = JsonDocument.Parse(buffer.ToArray());
        var sha = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("sha", out var value)
            && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        try
        {
            return HubNames.ValidateRevision(sha ?? "");
        }
        catch (ArgumentException)
        {
            throw new InvalidDataException($"{uri} did not name a commit for {branch} (no 40-hex \"sha\").");
        }
    }

    private static List<string> DefaultFiles(FetchRequest request, string revision, string suffix, Dictionary<string, TreeEntry> tree)
    {
        string[] encoders = [$"onnx/text_model{suffix}.onnx", $"onnx/vision_model{suffix}.onnx"];
        var missing = encoders.Where(e => !tree.ContainsKey(e)).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"{request.Repository}@{revision} has no {string.Join(" or ", missing)}.");
        return encoders.Concat(MetadataFiles.Where(tree.ContainsKey)).ToList();
    }

    // The code's list, all of it, plus an ONNX graph's external-data file where the tree has one beside it (a graph
    // over protobuf's 2 GiB keeps its weights there, and ONNX Runtime reads it from the same folder).
    private static List<string> FilesFromList(FetchRequest request, string revision, IReadOnlyList<string> listed, Dictionary<string, TreeEntry> tree)
    {
        var missing = listed.Where(f => !tree.ContainsKey(f)).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"{request.Repository}@{revision} has no {string.Join(", ", missing)}, which the code's file list for it names; the repository's layout changed, or this precision is not published.");
        var wanted = new List<string>(listed);
        foreach (var graph in listed.Where(f => f.EndsWith(".onnx", StringComparison.Ordinal)))
            wanted.AddRange(new[] { graph + "_data", graph + ".data" }.Where(tree.ContainsKey));
        return wanted;
    }

    // The model's folder is a direct child of the models folder, whatever the name says (it was validated too).
    private static string ModelFolderIn(string modelsPath, string name)
    {
        var target = Path.GetFullPath(Path.Combine(modelsPath, name));
        return string.Equals(Path.GetDirectoryName(target), modelsPath, StringComparison.Ordinal)
            ? target
            : throw new ArgumentException($"'{name}' does not name a folder directly inside {modelsPath}.");
    }

    // The old folder is moved aside, not deleted, until the new one is in place: a failure leaves the old model.
    private static void ReplaceFolder(string staging, string target)
    {
        if (!Directory.Exists(target))
        {
            Directory.Move(staging, target);
            return;
        }

        var aside = Path.Combine(Path.GetDirectoryName(target)!, $".replaced-{Path.GetFileName(target)}-{Guid.NewGuid():N}");
        Directory.Move(target, aside);
        try
        {
            Directory.Move(staging, target);
        }
        catch
        {
            Directory.Move(aside, target);
            throw;
        }

        Directory.Delete(aside, recursive: true);
    }

    private static long ExpectedSize(TreeEntry entry) => entry.Lfs?.Size ?? entry.Size;

    private static long CapFor(FetchRequest request, string path) =>
        path.EndsWith(".onnx", StringComparison.Ordinal) ? request.MaxFileBytes : Math.Min(request.MaxFileBytes, FetchRequest.MaxMetadataFileBytes);

    private static void CheckBeforeDownload(FetchRequest request, TreeEntry entry)
    {
        var size = ExpectedSize(entry);
        var cap = CapFor(request, entry.Path);
        if (size < 0 || size > cap)
            throw new InvalidDataException($"{entry.Path}: the revision's tree says {size:N0} bytes, over the limit of {cap:N0} bytes per file.");
        if (request.Pinned is not { } pinned)
            return;
        if (!pinned.TryGetValue(entry.Path, out var pin))
        {
            if (request.EveryFilePinned)
                throw new InvalidDataException($"{entry.Path}: the code pins this revision but not this file.");
            return;
        }

        if (pin.Algorithm == PinAlgorithm.ContentSha256)
        {
            // Checked on the content after download; the size can be checked now.
            if (pin.Size != size)
                throw new InvalidDataException($"{entry.Path}: the hub's tree lists {size:N0} bytes, the code pins {pin.Size:N0} bytes (content SHA-256 {pin.Digest}) for this revision.");
            return;
        }

        var (algorithm, digest) = entry.Lfs is { } lfs ? (PinAlgorithm.Sha256, lfs.Oid) : (PinAlgorithm.GitBlobSha1, entry.Oid);
        if (pin.Algorithm != algorithm || pin.Size != size || !string.Equals(pin.Digest, digest, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{entry.Path}: the hub's tree lists {algorithm} {digest} ({size:N0} bytes), the code pins {pin.Algorithm} {pin.Digest} ({pin.Size:N0} bytes) for this revision.");
    }

    private async Task<Dictionary<string, TreeEntry>> TreeAsync(string repository, string revision, CancellationToken cancellationToken)
    {
        var uri = new Uri(endpoint, $"api/models/{HubNames.EscapePath(repository)}/tree/{revision}?recursive=true");
        using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        await CopyCappedAsync(body, buffer, MaxTreeListingBytes, [], cancellationToken);
        var entries = JsonSerializer.Deserialize<List<TreeEntry>>(buffer.ToArray())
            ?? throw new InvalidOperationException($"{uri} returned no file list.");
        var files = new Dictionary<string, TreeEntry>(StringComparer.Ordinal);
        foreach (var entry in entries.Where(e => e.Type == "file"))
            files.TryAdd(entry.Path, entry);
        return files;
    }

    /// <returns>The file's SHA-256 (hex).</returns>
    private async Task<string> DownloadVerifiedAsync(string repository, string revision, TreeEntry entry, string destination, CancellationToken cancellationToken)
    {
        var expectedSize = ExpectedSize(entry);
        var uri = new Uri(endpoint, $"{HubNames.EscapePath(repository)}/resolve/{revision}/{HubNames.EscapePath(entry.Path)}");
        using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        if (response.Content.Headers.ContentLength > expectedSize)
            throw new InvalidDataException($"{entry.Path}: the hub announces {response.Content.Headers.ContentLength:N0} bytes, the revision's tree says {expectedSize:N0}.");

        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // A git blob's id is SHA-1 over "blob <size>\0" followed by the content.
#pragma warning disable CA5350 // SHA-1 is what git names blobs with; SHA-256 of every file is also recorded.
        using var gitSha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
#pragma warning restore CA5350
        gitSha1.AppendData(Encoding.ASCII.GetBytes($"blob {expectedSize}\0"));
        long size;
        await using (var source = await response.Content.ReadAsStreamAsync(cancellationToken))
        await using (var file = File.Create(destination))
            size = await CopyCappedAsync(source, file, expectedSize, [sha256, gitSha1], cancellationToken, entry.Path);

        if (size != expectedSize)
            throw new InvalidDataException($"{entry.Path}: received {size:N0} bytes, the revision's tree says {expectedSize:N0}.");

        var sha256Hex = Convert.ToHexStringLower(sha256.GetHashAndReset());
        if (entry.Lfs is { } lfs)
        {
            if (!string.Equals(sha256Hex, lfs.Oid, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"{entry.Path}: SHA-256 {sha256Hex} does not match the revision's {lfs.Oid}.");
        }
        else
        {
            var blobId = Convert.ToHexStringLower(gitSha1.GetHashAndReset());
            if (!string.Equals(blobId, entry.Oid, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"{entry.Path}: git blob id {blobId} does not match the revision's {entry.Oid}.");
        }

        return sha256Hex;
    }

    /// <summary>Copies at most <paramref name="limit"/> bytes, hashing as it goes; one byte more aborts the copy.</summary>
    /// <returns>The bytes copied.</returns>
    private static async Task<long> CopyCappedAsync(Stream source, Stream destination, long limit, IncrementalHash[] hashes,
        CancellationToken cancellationToken, string? what = null)
    {
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            total += read;
            if (total > limit)
                throw new InvalidDataException($"{what ?? "the tree listing"}: the hub sent more than the {limit:N0} bytes expected; stopped.");
            foreach (var hash in hashes)
                hash.AppendData(buffer, 0, read);
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }

        return total;
    }
}
