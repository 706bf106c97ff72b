namespace ClipService.ModelFetching;

/// <summary>How a pinned file is named: SHA-256 of the content as the hub's tree lists it (LFS files), git's blob id
/// (the rest), or SHA-256 of the content checked after download whatever the tree calls the file (a digest known
/// from a public record for a file the hub may keep either way).</summary>
public enum PinAlgorithm { Sha256, GitBlobSha1, ContentSha256 }

/// <summary>One file's expected digest and size at a pinned revision.</summary>
public sealed record PinnedFile(PinAlgorithm Algorithm, string Digest, long Size);

/// <summary>
/// A repository fetch-model knows: which revision, which files make a folder the family's loader accepts, which of
/// them have digests in the code, and what to do after the fetch.
/// </summary>
/// <param name="Revision">A commit id, or "main": then fetch-model resolves the branch to its commit once, fetches
/// every file at that commit and records it in fetched.json; the files are then vouched for by the hub's own tree
/// listing only.</param>
/// <param name="Files">The fp32 file list, exactly; every one must be in the revision's tree.</param>
/// <param name="Digests">Digests in the code (a subset of <paramref name="Files"/>, or all of them).</param>
/// <param name="EveryFilePinned">Every file fetched must have a digest here (the default CLIP); otherwise files
/// without one are checked against the hub's tree listing alone.</param>
/// <param name="Precisions">fp32, and fp16/quantized where the repository publishes them under the
/// transformers.js names (onnx/NAME_fp16.onnx, onnx/NAME_quantized.onnx).</param>
/// <param name="AfterFetch">Printed after a successful fetch (e.g. the importer to run), or null.</param>
/// <param name="ServableAsFetched">False where the folder must be imported before the service can load it (Chinese-CLIP's
/// combined graph): the fetch then ends with that step, not with how to serve it.</param>
public sealed record PinnedModel(
    string Repository,
    string Revision,
    string Family,
    IReadOnlyList<string> Files,
    IReadOnlyDictionary<string, PinnedFile> Digests,
    bool EveryFilePinned,
    IReadOnlyList<string> Precisions,
    string? AfterFetch,
    bool ServableAsFetched = true)
{
    public bool RevisionIsBranch => Revision == PinnedModels.MainBranch;

    /// <summary>What the pin covers, in words (for --help and the fetch's first line).</summary>
    public string PinDescription => (EveryFilePinned, RevisionIsBranch) switch
    {
        (true, _) => $"commit {Revision[..8]}, every file's digest pinned in the code",
        (false, false) => $"commit {Revision[..8]}, digests pinned for {string.Join(", ", Digests.Keys)}; the other files checked against the hub's tree only",
        (false, true) => "branch main resolved to its commit at fetch time; file list pinned, no digest in the code (the hub's tree listing vouches for the files)",
    };

    /// <summary>The file list for <paramref name="precision"/>: ONNX files renamed by the transformers.js suffix.</summary>
    /// <exception cref="ArgumentException">The repository publishes no such variant under names the code knows.</exception>
    public IReadOnlyList<string> FilesFor(string precision)
    {
        if (!Precisions.Contains(precision))
            throw new ArgumentException($"{Repository}: --precision {precision} is not one the code knows for this repository ({string.Join(", ", Precisions)}).");
        var suffix = ModelFetcher.PrecisionSuffix(precision);
        return Files.Select(f => f.StartsWith("onnx/", StringComparison.Ordinal) && f.EndsWith(".onnx", StringComparison.Ordinal)
            ? f[..^".onnx".Length] + suffix + ".onnx"
            : f).ToList();
    }
}

/// <summary>
/// The repositories fetch-model knows, one per family (#20), with what the code can vouch for. Only the default
/// CLIP has every digest pinned; for the others this machine could not reach the hub, so what is pinned is what
/// public records agree on, and the rest is the file list.
/// </summary>
/// <remarks>
/// Provenance (this machine cannot reach the hub; none of these files has been downloaded here):
/// <list type="bullet">
/// <item>Xenova/clip-vit-base-patch32 at d15189d7: the digests and sizes the hub's tree listing publishes, as recorded
/// in public repositories that pin the same commit. The ONNX SHA-256s agree across several independent records; the
/// blob ids of merges.txt and tokenizer.json were re-computed here from identical copies committed in this repository
/// (tests check them).</item>
/// <item>Xenova/siglip-base-patch16-224 at 46490526: the commit, the two fp32 towers' SHA-256 and sizes and
/// tokenizer.json's content SHA-256 and size agree across several independent public records (download scripts and
/// manifests that pin this commit). The small JSON files have no digest in the code.</item>
/// <item>onnx-community/siglip2-base-patch16-224-ONNX, Xenova/chinese-clip-vit-base-patch16,
/// immich-app/XLM-Roberta-Large-Vit-B-32, immich-app/ViT-B-16-SigLIP2__webli: no digests in the code, revision main.
/// A single public record each names a commit for the first two (ba1f3b08… for SigLIP 2, f2690486… for
/// Chinese-CLIP) with digests of other precisions only; one record is not enough to pin, so they are not used.
/// The file lists are those the families' exports publish and the loaders need (checked by tests on the committed
/// random-weight exports in the same layouts); that the real repositories hold exactly these paths is unverified
/// here. In particular immich's XLM-R large text tower is about 2.2 GB in fp32, above protobuf's 2 GiB: if its
/// weights sit in an external-data file beside textual/model.onnx (model.onnx_data), fetch-model takes it along.</item>
/// </list>
/// </remarks>
public static class PinnedModels
{
    public const string MainBranch = "main";

    private const string ImportNote =
        "Chinese-CLIP is published as one combined onnx/model.onnx; ClipService needs it split once: run " +
        "'/usr/bin/python3 tools/import_model.py {0}' (writes onnx/text_model.onnx and onnx/vision_model.onnx and fills " +
        "config.json's trained_logit_scale), then serve it.";

    private const string RankOnlyNote =
        "SigLIP scores are a ranking (cosine) until config.json has trained_logit_scale and trained_logit_bias: the " +
        "trained values are in the combined onnx/model.onnx, which this entry does not fetch; fetch that file too and " +
        "run '/usr/bin/python3 tools/import_model.py {0}', or add the two values by hand.";

    private const string ImmichRankNote =
        "immich's open_clip config.json records only init_logit_scale/init_logit_bias, which are not used: add " +
        "trained_logit_scale and trained_logit_bias to {0}/config.json for probabilities; until then the model ranks.";

    private static readonly string[] Fp32 = ["fp32"];
    private static readonly string[] AllPrecisions = ["fp32", "fp16", "quantized"];
    private static readonly Dictionary<string, PinnedFile> NoDigests = new(StringComparer.Ordinal);

    private static readonly Dictionary<string, PinnedFile> XenovaClipB32Digests = new(StringComparer.Ordinal)
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

    private static readonly Dictionary<string, PinnedFile> XenovaSiglipDigests = new(StringComparer.Ordinal)
    {
        ["onnx/text_model.onnx"] = new(PinAlgorithm.Sha256, "3aa7fdbd20eaa8740cce17bf82913de641fcb632a768fed59f661cdcd0c32553", 441_332_132),
        ["onnx/vision_model.onnx"] = new(PinAlgorithm.Sha256, "f89d41bac7f4d4b87e010a467d93f98689d708916ed22f5a07f96fdfa26f475f", 371_819_850),
        ["tokenizer.json"] = new(PinAlgorithm.ContentSha256, "4a17c975210be5ab4c36b47d8dae4eefb866dbfb1e676e394aad85dc30a3ae08", 2_398_744),
    };

    private static readonly string[] HuggingFaceSplit =
        ["onnx/text_model.onnx", "onnx/vision_model.onnx", "config.json", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];

    private static readonly string[] ImmichFiles =
        ["config.json", "textual/model.onnx", "visual/model.onnx", "textual/tokenizer.json", "textual/tokenizer_config.json", "textual/special_tokens_map.json", "visual/preprocess_cfg.json"];

    /// <summary>Every repository the code knows, the default first.</summary>
    public static readonly IReadOnlyList<PinnedModel> All =
    [
        new(FetchRequest.XenovaClipB32, FetchRequest.XenovaClipB32Revision, "clip",
            ["onnx/text_model.onnx", "onnx/vision_model.onnx", .. XenovaClipB32Digests.Keys.Where(k => !k.StartsWith("onnx/", StringComparison.Ordinal))],
            XenovaClipB32Digests, EveryFilePinned: true, AllPrecisions, AfterFetch: null),
        new("Xenova/siglip-base-patch16-224", "4649052661e53c7000355844105f8a1792088239", "siglip",
            HuggingFaceSplit, XenovaSiglipDigests, EveryFilePinned: false, AllPrecisions, RankOnlyNote),
        new("onnx-community/siglip2-base-patch16-224-ONNX", MainBranch, "siglip2",
            HuggingFaceSplit, NoDigests, EveryFilePinned: false, AllPrecisions, RankOnlyNote),
        new("Xenova/chinese-clip-vit-base-patch16", MainBranch, "chinese_clip",
            ["onnx/model.onnx", "config.json", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"],
            NoDigests, EveryFilePinned: false, AllPrecisions, ImportNote, ServableAsFetched: false),
        new("immich-app/XLM-Roberta-Large-Vit-B-32", MainBranch, "xlm_roberta_clip",
            ImmichFiles, NoDigests, EveryFilePinned: false, Fp32, AfterFetch: null),
        new("immich-app/ViT-B-16-SigLIP2__webli", MainBranch, "siglip2",
            ImmichFiles, NoDigests, EveryFilePinned: false, Fp32, ImmichRankNote),
    ];

    /// <summary>The entry for <paramref name="repository"/> (case as the hub spells it), or null.</summary>
    public static PinnedModel? Find(string repository) => All.FirstOrDefault(m => m.Repository == repository);

    /// <summary>The digests the code pins for <paramref name="repository"/> at <paramref name="revision"/>, or null
    /// when it pins none for that commit (then the hub's own tree listing is what files are checked against).</summary>
    public static IReadOnlyDictionary<string, PinnedFile>? For(string repository, string revision) =>
        Find(repository) is { } model && model.Digests.Count > 0 && string.Equals(revision, model.Revision, StringComparison.OrdinalIgnoreCase)
            ? model.Digests
            : null;
}
