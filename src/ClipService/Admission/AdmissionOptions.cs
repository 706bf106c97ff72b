using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ClipService.Admission;

/// <summary>The "Clip:Admission" section: how much encoder work one model takes in before refusing more.</summary>
public sealed class AdmissionOptions
{
    public const string SectionName = "Clip:Admission";
    public const int DefaultMaxRequestsPerModel = 0;

    /// <summary>Requests that encode (classify, embed images or texts) per model in any stage at once — receiving
    /// the body, waiting for or in a decode, tokenising, queued, being encoded. Beyond it a request gets 503 before its body is read. 0: the model's queue
    /// (<c>Clip:Batching:MaxQueuedImages</c>) plus one batch being encoded.</summary>
    [Range(0, 100_000)]
    public int MaxRequestsPerModel { get; set; } = DefaultMaxRequestsPerModel;

    public int Capacity(int maxQueuedImages, int maxBatchSize) =>
        MaxRequestsPerModel > 0 ? MaxRequestsPerModel : maxQueuedImages + maxBatchSize;
}

/// <summary>Checks <see cref="AdmissionOptions"/>' ranges at start (source-generated).</summary>
[OptionsValidator]
public sealed partial class AdmissionOptionsValidator : IValidateOptions<AdmissionOptions>;
