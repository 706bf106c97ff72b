using System.Numerics.Tensors;
using ClipService.Core.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ClipService.Core.Encoders;

/// <summary>
/// The image tower: preprocessed NCHW pixels (fp32, or fp16 when the graph declares it) → L2-normalised
/// embeddings. The input wraps the caller's buffer without copying (fp32). A graph with a fixed batch size (immich's
/// exports take one) is run once per that many images. Safe for concurrent use.
/// </summary>
public sealed class ImageEncoder : IDisposable
{
    private readonly InferenceSession _session;
    private readonly SessionLease _lease;
    private readonly string _inputName;
    private readonly TensorElementType _inputType;
    private readonly string _outputName;
    private readonly int? _fixedBatch;
    private readonly BoundImageRun? _bound;
    private long _calls;

    internal ImageEncoder(EncoderSession session, string file, (int Height, int Width) preprocessedSize)
    {
        _session = session.Session;
        Provider = session.Provider;
        var inputs = _session.InputMetadata;
        if (inputs.Count != 1)
            throw new ModelFolderException($"{file}: expected one pixel input, found {OnnxGraph.Describe(inputs)}.");
        var (name, input) = inputs.First();
        _inputName = name;
        _inputType = input.ElementDataType;
        if (!OnnxGraph.IsFloat(_inputType) || input.Dimensions.Length != 4 || input.Dimensions[1] is not (3 or -1))
            throw new ModelFolderException($"{file}: input '{name}' is {_inputType}[{string.Join(",", input.Dimensions)}]; expected float [batch, 3, height, width].");

        _fixedBatch = input.Dimensions[0] > 0 ? input.Dimensions[0] : null;
        Height = input.Dimensions[2] > 0 ? input.Dimensions[2] : preprocessedSize.Height;
        Width = input.Dimensions[3] > 0 ? input.Dimensions[3] : preprocessedSize.Width;
        if ((Height, Width) != preprocessedSize)
        {
            throw new ModelFolderException(
                $"{file} takes {Height}×{Width} images but the preprocessing produces {preprocessedSize.Height}×{preprocessedSize.Width} (check preprocessor_config.json crop_size).");
        }

        (_outputName, var output) = OnnxGraph.EmbeddingOutput(_session, "image_embeds", file);
        EmbeddingSize = OnnxGraph.EmbeddingSize(output, file);
        // Last: a graph refused above leaves nothing allocated from its session (the caller disposes the session).
        _bound = session.UseIoBinding ? new BoundImageRun(_session, session.Provider) : null;
        _lease = new SessionLease(_session, file, _bound);
    }

    public string Provider { get; }

    /// <summary>Where IOBinding stages the batches ("CudaPinned", or "Cpu" when forced on the CPU); null when it is not used.</summary>
    public string? BoundHostMemory => _bound?.HostMemory;

    public int Height { get; }
    public int Width { get; }
    public int EmbeddingSize { get; }
    public int ImageTensorLength => 3 * Height * Width;

    /// <summary>The batch size the graph is fixed to, if it is.</summary>
    public int? FixedBatchSize => _fixedBatch;

    /// <summary>Encoder calls so far (each is one batched Run).</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Encodes <paramref name="count"/> images laid out back to back in <paramref name="pixels"/>.</summary>
    /// <param name="embeddings">Receives [count × <see cref="EmbeddingSize"/>], each row L2-normalised.</param>
    /// <exception cref="ObjectDisposedException">The encoder has been disposed; a call in progress then keeps its session.</exception>
    public void Encode(Memory<float> pixels, int count, Span<float> embeddings)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        _lease.Enter();
        try
        {
            EncodeHeld(pixels, count, embeddings);
        }
        finally
        {
            _lease.Exit();
        }
    }

    private void EncodeHeld(Memory<float> pixels, int count, Span<float> embeddings)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pixels.Length, count * ImageTensorLength, nameof(pixels));
        ArgumentOutOfRangeException.ThrowIfLessThan(embeddings.Length, count * EmbeddingSize, nameof(embeddings));
        if (_fixedBatch is { } batch && batch != count)
        {
            for (var first = 0; first < count; first += batch)
            {
                var rows = Math.Min(batch, count - first);
                var chunk = pixels.Slice(first * ImageTensorLength, rows * ImageTensorLength);
                if (rows < batch)
                {
                    var padded = new float[batch * ImageTensorLength];
                    chunk.Span.CopyTo(padded);
                    chunk = padded;
                }

                var chunkEmbeddings = rows < batch ? new float[batch * EmbeddingSize] : null;
                Run(chunk, batch, chunkEmbeddings ?? embeddings.Slice(first * EmbeddingSize, rows * EmbeddingSize));
                chunkEmbeddings?.AsSpan(0, rows * EmbeddingSize).CopyTo(embeddings[(first * EmbeddingSize)..]);
            }

            return;
        }

        Run(pixels, count, embeddings);
    }

    private void Run(Memory<float> pixels, int count, Span<float> embeddings)
    {
        var shape = new long[] { count, 3, Height, Width };
        var used = pixels[..(count * ImageTensorLength)];
        if (_bound is not null)
        {
            _bound.Run(_inputName, _inputType, used.Span, shape, _outputName, count, EmbeddingSize, embeddings);
            Interlocked.Increment(ref _calls);
            return;
        }

        using var input = _inputType == TensorElementType.Float16
            ? OrtValue.CreateTensorValueFromMemory(ToHalf(used.Span), shape)
            : OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, used, shape);
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, [_inputName], [input], [_outputName]);
        Interlocked.Increment(ref _calls);
        OnnxGraph.ReadNormalised(outputs[0], count, EmbeddingSize, embeddings);
    }

    /// <summary>Frees the session once no call is using it; calls starting afterwards throw.</summary>
    public void Dispose() => _lease.Release();

    private static Float16[] ToHalf(ReadOnlySpan<float> values)
    {
        var halves = new Half[values.Length];
        TensorPrimitives.ConvertToHalf(values, halves);
        return Array.ConvertAll(halves, h => new Float16(BitConverter.HalfToUInt16Bits(h)));
    }
}
