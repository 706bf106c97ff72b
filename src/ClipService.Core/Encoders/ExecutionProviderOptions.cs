using System.ComponentModel.DataAnnotations;

namespace ClipService.Core.Encoders;

public enum ExecutionProvider
{
    Cpu,
    Cuda,
}

/// <summary>How image batches are handed to ONNX Runtime.</summary>
public enum IoBindingMode
{
    /// <summary>IOBinding when the CUDA provider is active (pixels staged in pinned host memory, one host-to-device
    /// copy per batch, embeddings copied back into pinned memory); the CPU path wraps the caller's buffer as before.</summary>
    Auto,

    /// <summary>IOBinding on any provider (on the CPU the staging buffer is ordinary memory): for tests and benchmarks.</summary>
    Always,

    /// <summary>Never: ONNX Runtime copies from and to managed memory itself.</summary>
    Never,
}

/// <summary>Where ONNX Runtime runs the encoders, and with how many threads.</summary>
public sealed class ExecutionProviderOptions
{
    public const int DefaultIntraOpThreads = 0;

    /// <summary>Cpu, or Cuda (falls back to CPU with a warning when CUDA cannot be loaded, unless <see cref="RequireCuda"/>).</summary>
    public ExecutionProvider Provider { get; set; } = ExecutionProvider.Cpu;

    /// <summary>CUDA device ordinal.</summary>
    [Range(0, 64)]
    public int DeviceId { get; set; }

    /// <summary>Fail instead of falling back to CPU when CUDA was asked for and cannot be loaded.</summary>
    public bool RequireCuda { get; set; }

    /// <summary>ONNX Runtime intra-op threads per session; 0 lets ONNX Runtime use one per core.</summary>
    [Range(0, 256)]
    public int IntraOpThreads { get; set; } = DefaultIntraOpThreads;

    /// <summary>Let ONNX Runtime's intra-op threads spin between operators and runs. Off by default: in a service
    /// the same cores decode, resample and answer requests between encoder runs, and spinning threads took those
    /// cycles (small model, 224² JPEGs, 2 cores: 1.9 CPU-ms per request spinning, 1.2 not). On suits a host whose
    /// encoder runs back to back with nothing else to do.</summary>
    public bool AllowSpinning { get; set; }

    /// <summary>Auto (IOBinding with pinned host buffers on CUDA), Always or Never.</summary>
    [EnumDataType(typeof(IoBindingMode))]
    public IoBindingMode IoBinding { get; set; } = IoBindingMode.Auto;
}
