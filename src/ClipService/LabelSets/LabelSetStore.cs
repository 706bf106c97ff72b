using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using ClipService.Core.Models;
using ClipService.Inference;
using Microsoft.Extensions.Options;

namespace ClipService.LabelSets;

/// <summary>
/// Label-set embeddings kept on disk (Clip:LabelSets:CachePath), one file per model and set content, so a restart
/// or another replica sharing the folder loads them instead of computing them. A file is named by its key: the
/// SHA-256 of the model's text-side digest (<see cref="ModelDigest"/>) and everything else the embeddings depend on
/// (labels, templates, tokenizer kind, context length, the family's text-input rule, embedding size, this format).
/// Files are written to a temporary name and renamed into place, so a reader sees a whole file or none and
/// concurrent writers (replicas computing the same set) each replace it with the same bytes. A file that is
/// truncated, corrupt or for another key is a miss, with one Warning; it is checked (key, row count, dimension,
/// length and a SHA-256 of its contents) before a vector of it is used. A folder that cannot be written (a
/// read-only volume) is still read; the first failed write is a Warning, later ones are not logged.
/// </summary>
public sealed partial class LabelSetStore(IOptions<LabelSetOptions> options, ILogger<LabelSetStore> logger)
{
    /// <summary>Bump when the way label embeddings are computed changes (tokenising, ensembling), so old files are misses.</summary>
    internal const string Recipe = "clipservice label-set embeddings v1";

    private static ReadOnlySpan<byte> Magic => "CLIPLSE1"u8;
    private const int KeyBytes = 32;
    private const int HeaderBytes = 8 + KeyBytes + 4 + 4;
    private const int ChecksumBytes = 32;

    private readonly string? _folder = options.Value.LabelSets.CachePath is { Length: > 0 } path ? Path.GetFullPath(path) : null;
    private readonly ConcurrentDictionary<string, Lazy<Task<string?>>> _digests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _reportedUnusable = new(StringComparer.Ordinal);
    private int _writeFailureLogged;

    /// <summary>False when Clip:LabelSets:CachePath is unset.</summary>
    public bool Enabled => _folder is not null;

    public string? Folder => _folder;

    /// <summary>The model's text-side digest, computed once per model on a thread-pool thread (the first call starts
    /// it; the precompute calls it for every model while they warm up). Null, with a Warning, when the model's
    /// files cannot be read: the store is then not used for that model.</summary>
    public Task<string?> DigestAsync(ClipModel model) =>
        _digests.GetOrAdd(model.Folder.TextModelPath, _ => new Lazy<Task<string?>>(() => Task.Run(() =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                var digest = ModelDigest.TextSide(model.Folder);
                var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                LogDigest(logger, model.Name, digest, elapsedMs);
                return digest;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogNoDigest(logger, model.Name, e.Message);
                return null;
            }
        }))).Value;

    /// <summary>The key of <paramref name="model"/>'s embeddings of these labels in these templates.</summary>
    public static byte[] Key(string modelDigest, ClipModel model, IReadOnlyList<string> labels, IReadOnlyList<string> templates)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Text(string value)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            Number(bytes.Length);
            hash.AppendData(bytes);
        }

        void Number(long value)
        {
            Span<byte> bytes = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
            hash.AppendData(bytes);
        }

        Text(Recipe);
        Text(modelDigest);
        Text(model.Tokenizer.Kind);
        Number(model.ContextLength);
        Number(model.TextInput.PadId);
        Number(model.TextInput.PadToContext ? 1 : 0);
        Number(model.EmbeddingSize);
        Number(templates.Count);
        foreach (var template in templates)
            Text(template);
        Number(labels.Count);
        foreach (var label in labels)
            Text(label);
        return hash.GetHashAndReset();
    }

    /// <summary>The file a set's embeddings are kept in: the set's name (for people) and the key (for the store).</summary>
    public string PathOf(string setName, byte[] key) => Path.Combine(_folder ?? throw new InvalidOperationException("No store."), $"{setName}.{Convert.ToHexStringLower(key)}.lse");

    /// <summary>The stored embeddings, or null on a miss (no store, no file, or a file that does not check out).</summary>
    public async Task<TextEmbeddings?> TryLoadAsync(ClipModel model, string setName, IReadOnlyList<string> labels, IReadOnlyList<string> templates, CancellationToken cancellationToken)
    {
        if (_folder is null || await DigestAsync(model) is not { } digest)
            return null;
        var key = Key(digest, model, labels, templates);
        var path = PathOf(setName, key);
        byte[] bytes;
        try
        {
            // A file of the wrong length (another set's, a stray one) is refused before it is read into memory.
            if (LengthProblem(new FileInfo(path).Length, labels.Count, model.EmbeddingSize) is { } wrongLength)
            {
                ReportUnusable(path, wrongLength);
                return null;
            }

            bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ReportUnusable(path, e.Message);
            return null;
        }

        if (Check(bytes, key, labels.Count, model.EmbeddingSize) is { } problem)
        {
            ReportUnusable(path, problem);
            return null;
        }

        return Read(bytes, labels.Count, model.EmbeddingSize);
    }

    /// <summary>Keeps <paramref name="embeddings"/>; false when the store is off or the file could not be written
    /// (logged once), which costs only a later recomputation.</summary>
    public async Task<bool> SaveAsync(ClipModel model, string setName, IReadOnlyList<string> labels, IReadOnlyList<string> templates, TextEmbeddings embeddings, CancellationToken cancellationToken)
    {
        if (_folder is null || await DigestAsync(model) is not { } digest)
            return false;
        var key = Key(digest, model, labels, templates);
        var path = PathOf(setName, key);
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(_folder);
            var bytes = Write(key, embeddings, model.EmbeddingSize);
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.Asynchronous))
            {
                await file.WriteAsync(bytes, cancellationToken);
                file.Flush(flushToDisk: true);
            }

            // Atomic on one file system: a reader sees the old file, the new one or none, never half of one. Another
            // replica's rename of the same bytes may come first or after; either way the file is whole.
            File.Move(temporary, path, overwrite: true);
            _reportedUnusable.TryRemove(path, out _);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            TryDelete(temporary);
            if (e is OperationCanceledException)
                throw;
            if (Interlocked.Exchange(ref _writeFailureLogged, 1) == 0)
                LogNotWritable(logger, _folder, e.Message);
            return false;
        }
    }

    // The precompute and the first request both look for a set: a bad file is reported once, not once per look.
    private void ReportUnusable(string path, string problem)
    {
        if (_reportedUnusable.TryAdd(path, 0))
            LogUnusable(logger, path, problem);
    }

    private static string? LengthProblem(long length, int rows, int dim)
    {
        var expected = HeaderBytes + rows * 5L + (long)rows * dim * sizeof(float) + ChecksumBytes;
        return length == expected ? null : $"{length} bytes, expected {expected} (truncated, extended or another set's)";
    }

    private static string? Check(byte[] bytes, byte[] key, int rows, int dim)
    {
        if (bytes.Length < HeaderBytes + ChecksumBytes || !bytes.AsSpan(0, 8).SequenceEqual(Magic))
            return "not a label-set embedding file";
        if (!bytes.AsSpan(8, KeyBytes).SequenceEqual(key))
            return "its key is another set's or model's";
        var fileRows = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(40));
        var fileDim = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(44));
        if (fileRows != rows || fileDim != dim)
            return $"it holds {fileRows} × {fileDim}, expected {rows} × {dim}";
        // Checked before the read too; a file replaced in between is caught here.
        if (LengthProblem(bytes.Length, rows, dim) is { } problem)
            return problem;
        var body = bytes.AsSpan(0, bytes.Length - ChecksumBytes);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - ChecksumBytes)))
            return "its checksum does not match its contents";
        return BitConverter.IsLittleEndian ? null : "stored little-endian, this machine is big-endian";
    }

    // Layout: "CLIPLSE1", key (32), rows (int32), dim (int32), tokens per row (int32 each), truncated per row (byte
    // each), rows × dim float32, SHA-256 of all that. Little-endian.
    private static byte[] Write(byte[] key, TextEmbeddings embeddings, int dim)
    {
        var rows = embeddings.Rows.Count;
        var bytes = new byte[HeaderBytes + rows * 5 + rows * dim * sizeof(float) + ChecksumBytes];
        Magic.CopyTo(bytes);
        key.CopyTo(bytes, 8);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(40), rows);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(44), dim);
        var offset = HeaderBytes;
        for (var i = 0; i < rows; i++, offset += 4)
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), embeddings.TokensOf(i));
        for (var i = 0; i < rows; i++)
            bytes[offset++] = embeddings.IsTruncated(i) ? (byte)1 : (byte)0;
        var vectors = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(offset, rows * dim * sizeof(float)));
        for (var i = 0; i < rows; i++)
            embeddings.Rows[i].Span.CopyTo(vectors.Slice(i * dim, dim));
        SHA256.HashData(bytes.AsSpan(0, bytes.Length - ChecksumBytes), bytes.AsSpan(bytes.Length - ChecksumBytes));
        return bytes;
    }

    private static TextEmbeddings Read(byte[] bytes, int rows, int dim)
    {
        var offset = HeaderBytes;
        var tokens = MemoryMarshal.Cast<byte, int>(bytes.AsSpan(offset, rows * 4));
        var truncated = bytes.AsSpan(offset + rows * 4, rows);
        // One array for the whole set: its rows live and die together.
        var vectors = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(offset + rows * 5, rows * dim * sizeof(float))).ToArray();
        var items = new TextEmbedding[rows];
        for (var i = 0; i < rows; i++)
            items[i] = new TextEmbedding(vectors.AsMemory(i * dim, dim), tokens[i], truncated[i] != 0);
        return new TextEmbeddings(items);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A temporary file left behind is ignored by readers (never a key's name).
        }
    }

    [LoggerMessage(EventId = 4110, Level = LogLevel.Information, Message = "Text side of {Model} hashed in {ElapsedMs:F0} ms: {Digest}")]
    private static partial void LogDigest(ILogger logger, string model, string digest, double elapsedMs);

    [LoggerMessage(EventId = 4113, Level = LogLevel.Warning, Message = "The text side of {Model} cannot be hashed ({Reason}); its label sets are not stored")]
    private static partial void LogNoDigest(ILogger logger, string model, string reason);

    [LoggerMessage(EventId = 4111, Level = LogLevel.Warning, Message = "Label-set store file {Path} is not used ({Problem}); the set is embedded again")]
    private static partial void LogUnusable(ILogger logger, string path, string problem);

    [LoggerMessage(EventId = 4112, Level = LogLevel.Warning, Message = "Label-set store {Folder} cannot be written ({Reason}); embeddings are read from it but not saved")]
    private static partial void LogNotWritable(ILogger logger, string folder, string reason);
}
