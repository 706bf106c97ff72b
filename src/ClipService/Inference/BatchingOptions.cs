using System.ComponentModel.DataAnnotations;
using ClipService.Core.Encoders;

namespace ClipService.Inference;

/// <summary>The "Clip:Batching" section: how image requests are gathered into encoder batches, and how large a text
/// run may be.</summary>
public sealed class BatchingOptions
{
    public const string SectionName = "Clip:Batching";
    public const int DefaultMaxBatchSize = 0;
    public const int CpuBatchSize = 8;
    public const int GpuBatchSize = 32;
    public const int DefaultMaxBatchDelayMs = 0;
    public const int DefaultMaxQueuedImages = 256;
    public const int DefaultMaxTextBatchSize = 32;

    /// <summary>Most images one encoder call takes; 0: chosen per model by where its image encoder runs,
    /// <see cref="CpuBatchSize"/> on the CPU (larger batches gain nothing there and wait longer) and
    /// <see cref="GpuBatchSize"/> on a GPU.</summary>
    [Range(0, 1024)]
    public int MaxBatchSize { get; set; } = DefaultMaxBatchSize;

    /// <summary>The batch size for an image encoder running on <paramref name="provider"/> (ONNX Runtime's name).</summary>
    public int BatchSizeFor(string provider) =>
        MaxBatchSize > 0 ? MaxBatchSize : provider == OnnxSessionFactory.CudaProvider ? GpuBatchSize : CpuBatchSize;

    /// <summary>The largest batch any model may get, for limits set before a model is known.</summary>
    public int LargestBatchSize => MaxBatchSize > 0 ? MaxBatchSize : GpuBatchSize;

    /// <summary>How long a batch that is not full waits for more images once the encoder is free. 0: run with
    /// whatever is queued (batches still form under load, since requests queue while the encoder runs).</summary>
    [Range(0, 1000)]
    public int MaxBatchDelayMs { get; set; } = DefaultMaxBatchDelayMs;

    /// <summary>Preprocessed images that may wait per model; beyond it requests get 503 at once.</summary>
    [Range(1, 100_000)]
    public int MaxQueuedImages { get; set; } = DefaultMaxQueuedImages;

    /// <summary>Most prompts one text-encoder call takes. A request's prompts (labels × templates, texts) are
    /// encoded in runs of at most this many, each waiting its turn with the image batches, and a request that has
    /// gone stops between runs: a long list cannot hold the encoder for long.</summary>
    [Range(1, 1024)]
    public int MaxTextBatchSize { get; set; } = DefaultMaxTextBatchSize;
}
