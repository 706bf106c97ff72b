namespace ClipService.ModelFetching;

/// <summary>How a pinned file is named by the hub: SHA-256 of the content (LFS files) or git's blob id (the rest).</summary>
public enum PinAlgorithm { Sha256, GitBlobSha1 }

/// <summary>One file's expected digest and size at a pinned revision.</summary>
public sealed record PinnedFile(PinAlgorithm Algorithm, string Digest, long Size);

/// <summary>
/// Expected hashes, in the code, of the revisions fetch-model fetches by default, so a hub or mirror that serves a
/// different tree for the pinned commit is refused before any download (the tree listing alone would vouch only
/// for itself).
/// </summary>
/// <remarks>
/// Provenance (this machine cannot reach the hub): the digests and sizes are those the hub's tree listing publishes
/// for Xenova/clip-vit-base-patch32 at d15189d7, as recorded in public repositories that pin the same commit. The
/// ONNX SHA-256s agree across several independent records; the blob ids of merges.txt and tokenizer.json were
/// re-computed here from identical copies committed in this repository (tests check them). The ONNX files
/// themselves have not been downloaded here.
/// </remarks>
public static class PinnedModels
{
    private static readonly Dictionary<string, PinnedFile> XenovaClipB32 = new(StringComparer.Ordinal)
    {
        ["onnx/text_model.onnx"] = new(PinAlgorithm.Sha256, "3f6571f5bad13a97c469c1622e1cfc4d9aef78b79fdbfcff804ca357bfada8cc", 254_058_553),
        ["onnx/vision_model.onnx"] = new(PinAlgorithm.Sha256, "fd6e1402a588279d1723c7534d4bcba5bc0b14b47dfab0e46f8c47b8270d7d40", 351_685_709),
        ["onnx/text_model_fp16.onnx"] = new(PinAlgorithm.Sha256, "df587ffbf248bf20d44fa6e16adc5ebc27ead691860e5333dbdaab5fd6bf3f6e", 127_339_794),
        ["onnx/vision_model_fp16.onnx"] = new(PinAlgorithm.Sha256, "35c4e0fb0aeee527dcde1693520b214a34424a786babd530f35366bad5844efd", 176_080_659),
        ["onnx/text_model_quantized.onnx"] = new(PinAlgorithm.Sha256, "73baab855d406190da9faa498cfedf65f15cf309f4cc7385b7b032e6d08e5c3a", 64_504_507),
        ["onnx/vision_model_quantized.onnx"] = new(PinAlgorithm.Sha256, "583fd1110a514667812fee7d684952aaf82a99b959760c8d7dca7e0ab9839299", 89_117_001),
        ["config.json"] = new(PinAlgorithm.GitBlobSha1, "e79bad158b04c235740f9b2ec320b17f4030f7a5", 4_524),
        ["preprocessor_config.json"] = new(PinAlgorithm.GitBlobSha1, "e0675735fd0052745f2f7b7291e4aa7859389998", 520),
        ["special_tokens_map.json"] = new(PinAlgorithm.GitBlobSha1, "2c2130b544c0c5a72d5d00da071ba130a9800fb2", 472),
        ["tokenizer.json"] = new(PinAlgorithm.GitBlobSha1, "bc1f77d20440541dd073ebae6f6c401087c7d34e", 2_224_119),
        ["tokenizer_config.json"] = new(PinAlgorithm.GitBlobSha1, "c9b2a711cbdd039529fa5a66f1965e13eb14451d", 775),
        ["vocab.json"] = new(PinAlgorithm.GitBlobSha1, "182766ce89b439768edadda342519f33802f5364", 862_328),
        ["merges.txt"] = new(PinAlgorithm.GitBlobSha1, "76e821f1b6f0a9709293c3b6b51ed90980b3166b", 524_619),
    };

    /// <summary>The pinned files of <paramref name="repository"/> at <paramref name="revision"/>, or null when the
    /// code pins nothing for it (then the hub's own tree listing is what files are checked against).</summary>
    public static IReadOnlyDictionary<string, PinnedFile>? For(string repository, string revision) =>
        repository == FetchRequest.XenovaClipB32 && string.Equals(revision, FetchRequest.XenovaClipB32Revision, StringComparison.OrdinalIgnoreCase)
            ? XenovaClipB32
            : null;
}
