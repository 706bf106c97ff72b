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
                cudaOptions = BaseOptions(options, modelPath);
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

        using var cpuOptions = BaseOptions(options, modelPath);
        return new EncoderSession(new InferenceSession(modelPath, cpuOptions), CpuProvider) { UseIoBinding = options.IoBinding == IoBindingMode.Always };
    }

    private static SessionOptions BaseOptions(ExecutionProviderOptions options, string modelPath)
    {
        var session = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = 1,
        };
        var spinning = options.SpinningFor(ModelBytes(modelPath));
        session.AddSessionConfigEntry("session.intra_op.allow_spinning", spinning == SpinningMode.Off ? "0" : "1");
        // Stops the spinning as the last concurrent run returns; the next run starts it again.
        session.AddSessionConfigEntry("session.force_spinning_stop", spinning == SpinningMode.Always ? "0" : "1");
        return session;
    }

    // The graph file and its external weights (model.onnx_data, model.onnx.data), which big exports keep apart.
    internal static long ModelBytes(string modelPath)
    {
        var file = new FileInfo(modelPath);
        if (!file.Exists || file.Directory is null)
            return 0;
        return file.Directory.EnumerateFiles(file.Name + "*").Sum(f => f.Length);
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Error,
        Message = "CUDA WAS REQUESTED BUT CANNOT BE USED (device {DeviceId}, {Model}): {Reason}. Falling back to the CPU; set RequireCuda to fail instead.")]
    private static partial void LogCudaFallback(ILogger logger, int deviceId, string model, string reason);
}
