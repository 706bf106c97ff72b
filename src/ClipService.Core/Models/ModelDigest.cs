using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace ClipService.Core.Models;

/// <summary>
/// What a model's text embeddings depend on, as one SHA-256: the text encoder graph (and its external-data file,
/// if any), the tokenizer files and config.json, each framed by its name and length. Two folders with this digest
/// embed every prompt the same way, whatever they are named; editing any of those files changes it. Reads every
/// byte of the graph: 0.36 s for the 254 MB ViT-B/32-shaped text graph, once per model and start (README, Named label sets).
/// </summary>
public static class ModelDigest
{
    /// <summary>The files a folder's tokenizer may be read from, besides config.json (whichever exist).</summary>
    private static readonly string[] TokenizerFiles =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt", "vocab.txt", "added_tokens.json"];

    /// <returns>64 lowercase hex digits.</returns>
    public static string TextSide(ClipModelFolder folder)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            Add(hash, buffer, "text-graph", folder.TextModelPath);
            Add(hash, buffer, "text-graph-data", folder.TextModelPath + "_data");
            Add(hash, buffer, "text-graph-data", folder.TextModelPath + ".data");
            Add(hash, buffer, "config.json", Path.Combine(folder.Directory, "config.json"));
            foreach (var name in TokenizerFiles)
                Add(hash, buffer, name, Path.Combine(folder.TokenizerDirectory, name));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    // Name, then length (-1: absent), then the bytes: no two sets of files hash alike by shifting bytes between them.
    private static void Add(IncrementalHash hash, byte[] buffer, string name, string path)
    {
        hash.AppendData(Encoding.UTF8.GetBytes(name + "\0"));
        Span<byte> length = stackalloc byte[8];
        if (!File.Exists(path))
        {
            BinaryPrimitives.WriteInt64LittleEndian(length, -1);
            hash.AppendData(length);
            return;
        }

        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        BinaryPrimitives.WriteInt64LittleEndian(length, file.Length);
        hash.AppendData(length);
        int read;
        while ((read = file.Read(buffer)) > 0)
            hash.AppendData(buffer.AsSpan(0, read));
    }
}
