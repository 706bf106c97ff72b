using System.Net.Http.Json;
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
}

/// <summary>
/// Downloads a CLIP model folder from a Hugging Face–compatible hub at a pinned revision and verifies every file
/// against the hashes the hub publishes for that revision's tree: SHA-256 for LFS files (the ONNX graphs), the
/// git blob SHA-1 for small files. The folder appears only when every file checked out; a lock file
/// (fetched.json) records the revision and each file's SHA-256.
/// </summary>
public sealed class ModelFetcher(HttpClient http, Uri endpoint, TextWriter log)
{
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
        var suffix = request.Precision switch
        {
            "fp32" => "",
            "fp16" => "_fp16",
            "quantized" => "_quantized",
            _ => throw new ArgumentException($"precision must be fp32, fp16 or quantized; got '{request.Precision}'."),
        };
        var name = request.Name ?? request.Repository.Split('/')[^1];
        var target = Path.Combine(request.ModelsPath, name);
        if (Directory.Exists(target) && !request.Force)
            throw new InvalidOperationException($"{target} already exists; pass --force to replace it.");

        var tree = await TreeAsync(request, cancellationToken);
        string[] encoders = [$"onnx/text_model{suffix}.onnx", $"onnx/vision_model{suffix}.onnx"];
        var missing = encoders.Where(e => !tree.ContainsKey(e)).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"{request.Repository}@{request.Revision} has no {string.Join(" or ", missing)}.");
        var wanted = encoders.Concat(MetadataFiles.Where(tree.ContainsKey)).ToList();

        Directory.CreateDirectory(request.ModelsPath);
        var staging = Path.Combine(request.ModelsPath, $".fetch-{name}-{Guid.NewGuid():N}");
        var locked = new SortedDictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var path in wanted)
            {
                var entry = tree[path];
                var destination = Path.Combine(staging, path);
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                log.WriteLine($"  {path} ({entry.Lfs?.Size ?? entry.Size:N0} bytes)");
                locked[path] = await DownloadVerifiedAsync(request, entry, destination, cancellationToken);
            }

            var lockFile = new
            {
                repository = request.Repository,
                revision = request.Revision,
                endpoint = endpoint.ToString(),
                sha256 = locked,
            };
            await File.WriteAllTextAsync(Path.Combine(staging, "fetched.json"),
                JsonSerializer.Serialize(lockFile, IndentedJson), cancellationToken);
            if (Directory.Exists(target))
                Directory.Delete(target, recursive: true);
            Directory.Move(staging, target);
            return target;
        }
        finally
        {
            if (Directory.Exists(staging))
                Directory.Delete(staging, recursive: true);
        }
    }

    private async Task<Dictionary<string, TreeEntry>> TreeAsync(FetchRequest request, CancellationToken cancellationToken)
    {
        var uri = new Uri(endpoint, $"api/models/{request.Repository}/tree/{Uri.EscapeDataString(request.Revision)}?recursive=true");
        var entries = await http.GetFromJsonAsync<List<TreeEntry>>(uri, cancellationToken)
            ?? throw new InvalidOperationException($"{uri} returned no file list.");
        return entries.Where(e => e.Type == "file").ToDictionary(e => e.Path, StringComparer.Ordinal);
    }

    /// <returns>The file's SHA-256 (hex).</returns>
    private async Task<string> DownloadVerifiedAsync(FetchRequest request, TreeEntry entry, string destination, CancellationToken cancellationToken)
    {
        var uri = new Uri(endpoint, $"{request.Repository}/resolve/{Uri.EscapeDataString(request.Revision)}/{entry.Path}");
        using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        await using (var source = await response.Content.ReadAsStreamAsync(cancellationToken))
        await using (var file = File.Create(destination))
            await source.CopyToAsync(file, cancellationToken);

        var size = new FileInfo(destination).Length;
        var expectedSize = entry.Lfs?.Size ?? entry.Size;
        if (size != expectedSize)
            throw new InvalidDataException($"{entry.Path}: received {size:N0} bytes, the revision's tree says {expectedSize:N0}.");

        var sha256 = Convert.ToHexStringLower(await HashFileAsync(SHA256.Create(), destination, null, cancellationToken));
        if (entry.Lfs is { } lfs)
        {
            if (!string.Equals(sha256, lfs.Oid, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"{entry.Path}: SHA-256 {sha256} does not match the revision's {lfs.Oid}.");
        }
        else
        {
            // A git blob's id is SHA-1 over "blob <size>\0" followed by the content.
#pragma warning disable CA5350 // SHA-1 is what git names blobs with; SHA-256 of every file is also recorded.
            var gitSha1 = Convert.ToHexStringLower(await HashFileAsync(SHA1.Create(), destination, Encoding.ASCII.GetBytes($"blob {size}\0"), cancellationToken));
#pragma warning restore CA5350
            if (!string.Equals(gitSha1, entry.Oid, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"{entry.Path}: git blob id {gitSha1} does not match the revision's {entry.Oid}.");
        }

        return sha256;
    }

    private static async Task<byte[]> HashFileAsync(HashAlgorithm algorithm, string path, byte[]? prefix, CancellationToken cancellationToken)
    {
        using (algorithm)
        {
            if (prefix is not null)
                algorithm.TransformBlock(prefix, 0, prefix.Length, null, 0);
            await using var file = File.OpenRead(path);
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await file.ReadAsync(buffer, cancellationToken)) > 0)
                algorithm.TransformBlock(buffer, 0, read, null, 0);
            algorithm.TransformFinalBlock([], 0, 0);
            return algorithm.Hash!;
        }
    }
}
