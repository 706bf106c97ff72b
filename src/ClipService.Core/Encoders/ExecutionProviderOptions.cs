using System.ComponentModel.DataAnnotations;

namespace ClipService.Core.Encoders;

public enum ExecutionProvider
{
    Cpu,
    Cuda,
}

/// <summary>When ONNX Runtime's intra-op threads spin (busy-wait) instead of sleeping.</summary>
public enum SpinningMode
{
    /// <summary><see cref="DuringRuns"/> for an encoder of 32 MB or more (a CPU run of tens of milliseconds, where a
    /// sleeping thread's wake-up at each operator adds up), <see cref="Off"/> for a smaller one (runs of a
    /// millisecond or less back to back under load, where spinning takes the cores the requests' decoding needs).</summary>
    Auto,

    /// <summary>Threads sleep when they have no work.</summary>
    Off,

    /// <summary>Threads spin between operators of a run and stop as the run returns.</summary>
    DuringRuns,

    /// <summary>Threads also spin after a run, waiting for the next (ONNX Runtime's own default).</summary>
    Always,
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

    /// <summary>When ONNX Runtime's threads spin (see <see cref="SpinningMode"/>). Measured on 2 cores: the small
    /// default model at concurrency 16 answered 1,758 req/s with Off, 1,256 with DuringRuns, 1,115 with Always;
    /// ViT-B/32 at concurrency 1 answered in raw ONNX Runtime's time + 0.5 ms with DuringRuns, + 2.5 ms with Off.</summary>
    [EnumDataType(typeof(SpinningMode))]
    public SpinningMode Spinning { get; set; } = SpinningMode.Auto;

    /// <summary>The earlier setting, kept so existing configurations mean what they meant: true is
    /// <see cref="SpinningMode.Always"/>, false <see cref="SpinningMode.Off"/>; when set it wins over <see cref="Spinning"/>.</summary>
    public bool? AllowSpinning { get; set; }

    /// <summary>The encoder size from which <see cref="SpinningMode.Auto"/> spins during runs.</summary>
    public const long SpinDuringRunsFromBytes = 32L << 20;

    /// <summary>The spinning an encoder of <paramref name="modelBytes"/> (its file and external weights) gets.</summary>
    public SpinningMode SpinningFor(long modelBytes) => AllowSpinning switch
    {
        true => SpinningMode.Always,
        false => SpinningMode.Off,
        null when Spinning == SpinningMode.Auto => modelBytes >= SpinDuringRunsFromBytes ? SpinningMode.DuringRuns : SpinningMode.Off,
        null => Spinning,
    };

    /// <summary>Auto (IOBinding with pinned host buffers on CUDA), Always or Never.</summary>
    [EnumDataType(typeof(IoBindingMode))]
    public IoBindingMode IoBinding { get; set; } = IoBindingMode.Auto;
}
