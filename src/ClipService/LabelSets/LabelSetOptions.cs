using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ClipService.LabelSets;

/// <summary>Label-set settings, read from the "Clip" section (Clip:LabelSetsPath, Clip:PrecomputeLabelSets).</summary>
public sealed class LabelSetOptions
{
    public const string SectionName = "Clip";
    public const int DefaultMaxLabelsPerSet = 100_000;

    /// <summary>Folder of NAME.json files ({"labels": [...], "templates"?: [...], "description"?: "..."}), read at
    /// start and again whenever a file changes; a relative path is taken from the working directory. Unset: built-in sets only.</summary>
    public string? LabelSetsPath { get; set; }

    /// <summary>Compute every label set's embeddings for the default model as soon as it is ready (otherwise on first use).</summary>
    public bool PrecomputeLabelSets { get; set; } = true;

    /// <summary>Largest label set accepted from a file.</summary>
    [Range(1, 1_000_000)]
    public int MaxLabelsPerSet { get; set; } = DefaultMaxLabelsPerSet;
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
