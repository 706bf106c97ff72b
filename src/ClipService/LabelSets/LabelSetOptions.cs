using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ClipService.LabelSets;

/// <summary>Whether the default model's label sets are embedded in the background after start (Clip:PrecomputeLabelSets).</summary>
public enum PrecomputeMode
{
    /// <summary>Only when the sets not yet in the store would take at most
    /// <see cref="LabelSetStoreOptions.AutoPrecomputeMaxCpuSeconds"/> of CPU, as measured at warm-up.</summary>
    Auto,

    /// <summary>Always, however long it takes.</summary>
    True,

    /// <summary>Never: a set is embedded on its first use (or loaded from the store).</summary>
    False,
}

/// <summary>Label-set settings, read from the "Clip" section (Clip:LabelSetsPath, Clip:PrecomputeLabelSets, Clip:LabelSets:...).</summary>
public sealed class LabelSetOptions
{
    public const string SectionName = "Clip";
    public const int DefaultMaxLabelsPerSet = 100_000;

    /// <summary>Folder of NAME.json files ({"labels": [...], "templates"?: [...], "description"?: "..."}), read at
    /// start and again whenever a file changes; a relative path is taken from the working directory. Unset: built-in sets only.</summary>
    public string? LabelSetsPath { get; set; }

    /// <summary>auto (default), true or false: embed the default model's label sets that are not in the store while
    /// the encoder is idle, on one thread.</summary>
    [EnumDataType(typeof(PrecomputeMode))]
    public PrecomputeMode PrecomputeLabelSets { get; set; } = PrecomputeMode.Auto;

    /// <summary>Largest label set accepted from a file.</summary>
    [Range(1, 1_000_000)]
    public int MaxLabelsPerSet { get; set; } = DefaultMaxLabelsPerSet;

    [Required]
    [ValidateObjectMembers]
    public LabelSetStoreOptions LabelSets { get; set; } = new();
}

/// <summary>The label-set embedding store and the precompute's budget (Clip:LabelSets:...).</summary>
public sealed class LabelSetStoreOptions
{
    public const double DefaultAutoPrecomputeMaxCpuSeconds = 180;

    /// <summary>Folder the embeddings are kept in, keyed by the model's text-side digest and the set's content, so
    /// a restart or another replica on the same volume loads them instead of computing them. Unset: no store.
    /// A read-only folder is read, never written.</summary>
    public string? CachePath { get; set; }

    /// <summary>With Clip:PrecomputeLabelSets=auto, the most CPU time (seconds on one core) the precompute may
    /// be estimated to take; above it the precompute is off and logged so.</summary>
    [Range(0, 1_000_000)]
    public double AutoPrecomputeMaxCpuSeconds { get; set; } = DefaultAutoPrecomputeMaxCpuSeconds;
}

/// <summary>Checks <see cref="LabelSetOptions"/>' ranges at start (source-generated).</summary>
[OptionsValidator]
public sealed partial class LabelSetOptionsValidator : IValidateOptions<LabelSetOptions>;

/// <summary>At start, every file in Clip:LabelSetsPath must be a usable label set: a bad one stops the process with one line.</summary>
internal sealed class LabelSetFolderValidator : IValidateOptions<LabelSetOptions>
{
    public ValidateOptionsResult Validate(string? name, LabelSetOptions options) =>
        LabelSetCatalog.Check(options) is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}
