using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace ClipService.Core.Encoders;

/// <summary>A session together with the execution provider it really runs on.</summary>
public sealed record EncoderSession(InferenceSession Session, string Provider)
{
    /// <summary>Whether image batches go through <see cref="BoundImageRun"/>.</summary>
    public bool UseIoBinding { get; init; }
}

/// <summary>
/// Creates one <see cref="InferenceSession"/> per encoder file with the configured execution provider.
/// A CUDA request that cannot be met (no provider library, no CUDA 13 / cuDNN 9 runtime, no device) logs an
/// error-level warning and continues on CPU, or throws when <see cref="ExecutionProviderOptions.RequireCuda"/>
/// is set; it never falls back silently.
/// </summary>
public static partial class OnnxSessionFactory
{
    public const string CpuProvider = "CPUExecutionProvider";
    public const string CudaProvider = "CUDAExecutionProvider";

    /// <summary>Test seam: how CUDA is appended (the real call unless replaced).</summary>
    internal static Action<SessionOptions, int> AppendCuda { get; set; } = static (options, device) => options.AppendExecutionProvider_CUDA(device);

    public static EncoderSession Create(string modelPath, ExecutionProviderOptions options, ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        if (options.Provider == ExecutionProvider.Cuda)
        {
            SessionOptions? cudaOptions = null;
            try
            {
                cudaOptions = BaseOptions(options);
                AppendCuda(cudaOptions, options.DeviceId);
                var session = new InferenceSession(modelPath, cudaOptions);
                return new EncoderSession(session, CudaProvider) { UseIoBinding = options.IoBinding != IoBindingMode.Never };
            }
            catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException or InvalidOperationException)
            {
                if (options.RequireCuda)
                {
                    throw new ExecutionProviderException(
                        $"CUDA execution provider (device {options.DeviceId}) could not be loaded for {Path.GetFileName(modelPath)} and RequireCuda is set: {e.Message}", e);
                }

                LogCudaFallback(logger, options.DeviceId, Path.GetFileName(modelPath), e.Message);
            }
            finally
            {
                cudaOptions?.Dispose();
            }
        }

        using var cpuOptions = BaseOptions(options);
        return new EncoderSession(new InferenceSession(modelPath, cpuOptions), CpuProvider) { UseIoBinding = options.IoBinding == IoBindingMode.Always };
    }

    private static SessionOptions BaseOptions(ExecutionProviderOptions options)
    {
        var session = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = 1,
        };
        session.AddSessionConfigEntry("session.intra_op.allow_spinning", options.AllowSpinning ? "1" : "0");
        return session;
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Error,
        Message = "CUDA WAS REQUESTED BUT CANNOT BE USED (device {DeviceId}, {Model}): {Reason}. Falling back to the CPU; set RequireCuda to fail instead.")]
    private static partial void LogCudaFallback(ILogger logger, int deviceId, string model, string reason);
}
