using System.ComponentModel.DataAnnotations;
using ClipService.Core.Encoders;
using ClipService.Core.Imaging;
using ClipService.Core.Models;
using Microsoft.Extensions.Options;

namespace ClipService.Models;

/// <summary>Which models to load and how: the model keys of the "Clip" section (environment: Clip__Name) and its
/// ExecutionProvider and ImageDecoding sections.</summary>
public sealed class ModelOptions
{
    public const string SectionName = "Clip";
    public const string DefaultModelsPath = "models";

    /// <summary>Folder whose sub-folders are model folders (or itself one). A relative path is looked for in the
    /// working directory and the content root, then in the folders above them.</summary>
    [Required(AllowEmptyStrings = false)]
    public string ModelsPath { get; set; } = DefaultModelsPath;

    /// <summary>Name (folder name) of the model used when a request names none; default: the only or first one.</summary>
    public string? DefaultModel { get; set; }

    /// <summary>Which encoder files to load: Default, Fp16 or Quantized.</summary>
    [EnumDataType(typeof(ModelPrecision))]
    public ModelPrecision Precision { get; set; } = ModelPrecision.Default;

    /// <summary>Overrides the logit scale of every softmax-scored model (else the folder's trained_logit_scale, else 100); a
    /// sigmoid-scored model keeps its trained scale, which its trained bias belongs to.</summary>
    [Range(0.001, 1000.0)]
    public float? LogitScale { get; set; }

    [Required]
    [ValidateObjectMembers]
    public ExecutionProviderOptions ExecutionProvider { get; set; } = new();

    [Required]
    [ValidateObjectMembers]
    public ImageDecodingOptions ImageDecoding { get; set; } = new();
}

/// <summary>Checks <see cref="ModelOptions"/> and its nested sections at start (source-generated).</summary>
[OptionsValidator]
public sealed partial class ModelOptionsValidator : IValidateOptions<ModelOptions>;
