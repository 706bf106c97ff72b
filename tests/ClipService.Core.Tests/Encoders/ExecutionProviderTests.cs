using ClipService.Core.Encoders;
using ClipService.Core.Models;
using Microsoft.Extensions.Logging;

namespace ClipService.Core.Tests.Encoders;

/// <summary>
/// CUDA cannot run on this machine (no GPU, no CUDA 13 runtime), which is exactly the failure mode to test:
/// asking for it must fall back to the CPU loudly, or fail when fallback is forbidden.
/// </summary>
public sealed class ExecutionProviderTests
{
    private sealed class RecordingLogger : ILogger
    {
        public List<(LogLevel Level, EventId Id, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Entries)
                Entries.Add((logLevel, eventId, formatter(state, exception)));
        }
    }

    [Fact]
    public void Cuda_requested_without_a_gpu_falls_back_to_cpu_with_an_error_log()
    {
        var logger = new RecordingLogger();
        var options = new ClipModelLoadOptions { ExecutionProvider = new ExecutionProviderOptions { Provider = ExecutionProvider.Cuda, DeviceId = 0 } };
        using var model = ClipModel.Load(TestPaths.TinyModel, options, logger);

        Assert.Equal(OnnxSessionFactory.CpuProvider, model.Provider);
        var warnings = logger.Entries.Where(e => e.Id.Id == 1001).ToList();
        Assert.Equal(2, warnings.Count); // one per encoder
        Assert.All(warnings, w => Assert.Equal(LogLevel.Error, w.Level));
        Assert.All(warnings, w => Assert.Contains("CUDA", w.Message, StringComparison.Ordinal));
        // The fallback model still works.
        Assert.Equal(model.EmbeddingSize, model.EncodeTexts(["a cat"]).Length);
    }

    [Fact]
    public void Cuda_required_without_a_gpu_fails_with_the_reason()
    {
        var options = new ClipModelLoadOptions
        {
            ExecutionProvider = new ExecutionProviderOptions { Provider = ExecutionProvider.Cuda, RequireCuda = true },
        };
        var e = Assert.Throws<ExecutionProviderException>(() => ClipModel.Load(TestPaths.TinyModel, options));
        Assert.Contains("CUDA execution provider (device 0)", e.Message, StringComparison.Ordinal);
        Assert.NotNull(e.InnerException);
    }

    [Fact]
    public void Cpu_never_touches_cuda()
    {
        var logger = new RecordingLogger();
        using var model = ClipModel.Load(TestPaths.TinyModel, new ClipModelLoadOptions(), logger);
        Assert.Equal(OnnxSessionFactory.CpuProvider, model.Provider);
        Assert.DoesNotContain(logger.Entries, e => e.Id.Id == 1001);
    }
}
