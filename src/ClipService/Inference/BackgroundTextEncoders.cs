using System.Collections.Concurrent;
using ClipService.Core.Encoders;
using ClipService.Core.Models;
using ClipService.Models;
using Microsoft.Extensions.Options;

namespace ClipService.Inference;

/// <summary>
/// One single-threaded text encoder per model for background work (the label-set precompute), opened on first use
/// and closed by <see cref="Release"/> or on shutdown. Its session has one intra-op thread and does not spin, so a
/// background run takes one core, on the thread that calls it, and never the cores the request path's session
/// uses. It costs a second copy of the text graph in memory while it is open.
/// </summary>
public sealed partial class BackgroundTextEncoders(IOptions<ModelOptions> options, ILogger<BackgroundTextEncoders> logger) : IDisposable
{
    public const int Threads = 1;

    private readonly ConcurrentDictionary<string, Lazy<TextEncoder>> _encoders = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _released = new(StringComparer.Ordinal);
    private volatile bool _disposed;

    /// <exception cref="ObjectDisposedException">After <see cref="Release"/> for this model, or after disposal: a
    /// released encoder is never opened again (nothing would release the second copy of the graph).</exception>
    public TextEncoder For(ClipModel model)
    {
        if (_disposed || _released.ContainsKey(model.Name))
            throw new ObjectDisposedException(nameof(BackgroundTextEncoders), $"The background text encoder for {model.Name} has been released.");
        return Open(model);
    }

    private TextEncoder Open(ClipModel model) =>
        _encoders.GetOrAdd(model.Name, _ => new Lazy<TextEncoder>(() =>
        {
            var configured = options.Value.ExecutionProvider;
            var encoder = model.OpenTextEncoder(new ExecutionProviderOptions
            {
                Provider = configured.Provider,
                DeviceId = configured.DeviceId,
                RequireCuda = false,
                IntraOpThreads = Threads,
                Spinning = SpinningMode.Off,
            }, logger);
            LogOpened(logger, model.Name, encoder.Provider);
            return encoder;
        })).Value;

    /// <summary>Closes the model's background encoder (a run in progress keeps its session until it ends).</summary>
    public void Release(ClipModel model)
    {
        _released[model.Name] = 0;
        if (_encoders.TryRemove(model.Name, out var encoder) && encoder.IsValueCreated)
            encoder.Value.Dispose();
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var encoder in _encoders.Values.Where(e => e.IsValueCreated))
            encoder.Value.Dispose();
        _encoders.Clear();
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Debug, Message = "Background text encoder for {Model} opened on {Provider}, one thread")]
    private static partial void LogOpened(ILogger logger, string model, string provider);
}
