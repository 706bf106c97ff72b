using ClipService.Core.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ClipService.Core.Encoders;

/// <summary>
/// The text tower: token ids (int32 or int64, as the graph declares) with an attention mask when the graph
/// takes one → L2-normalised embeddings. A graph with a dynamic sequence axis gets batches padded only to
/// their longest prompt, which gives the same embeddings (causal attention, pooled at the end token) for
/// less work. Safe for concurrent use: <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string})"/>
/// is thread-safe and each call owns its buffers.
/// </summary>
public sealed class TextEncoder : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _idsName;
    private readonly TensorElementType _idsType;
    private readonly string? _maskName;
    private readonly TensorElementType _maskType;
    private readonly string _outputName;
    private readonly int? _fixedLength;
    private long _calls;

    internal TextEncoder(EncoderSession session, string file, int? configuredContextLength, int padId)
    {
        _session = session.Session;
        Provider = session.Provider;
        PadId = padId;
        var inputs = _session.InputMetadata;
        _idsName = inputs.ContainsKey("input_ids")
            ? "input_ids"
            : inputs.FirstOrDefault(i => IsInteger(i.Value.ElementDataType) && !i.Key.Contains("mask", StringComparison.OrdinalIgnoreCase)).Key
              ?? throw new ModelFolderException($"{file}: no integer token-id input among {OnnxGraph.Describe(inputs)}.");
        _maskName = inputs.Keys.FirstOrDefault(k => k.Contains("mask", StringComparison.OrdinalIgnoreCase));
        var unknown = inputs.Keys.Where(k => k != _idsName && k != _maskName).ToList();
        if (unknown.Count > 0)
            throw new ModelFolderException($"{file}: unsupported text encoder input(s) {string.Join(", ", unknown)}; expected token ids and optionally an attention mask.");

        var ids = inputs[_idsName];
        _idsType = ids.ElementDataType;
        if (!IsInteger(_idsType) || ids.Dimensions.Length != 2)
            throw new ModelFolderException($"{file}: input '{_idsName}' is {_idsType}[{string.Join(",", ids.Dimensions)}]; expected int32 or int64 [batch, sequence].");
        if (_maskName is not null)
        {
            _maskType = inputs[_maskName].ElementDataType;
            if (!IsInteger(_maskType))
                throw new ModelFolderException($"{file}: input '{_maskName}' is {_maskType}; expected an integer attention mask.");
        }

        _fixedLength = ids.Dimensions[1] > 0 ? ids.Dimensions[1] : null;
        ContextLength = _fixedLength ?? configuredContextLength ?? 77;
        if (_fixedLength is { } fixedLength && configuredContextLength is { } configured && configured < fixedLength)
            throw new ModelFolderException($"{file}: takes {fixedLength} tokens but config.json allows {configured} positions.");

        (_outputName, var output) = OnnxGraph.EmbeddingOutput(_session, "text_embeds", file);
        EmbeddingSize = OnnxGraph.EmbeddingSize(output, file);
    }

    public string Provider { get; }
    public int ContextLength { get; }
    public int EmbeddingSize { get; }
    public int PadId { get; }

    /// <summary>Encoder calls so far (each is one batched Run).</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Encodes tokenised prompts (start … end, at most <see cref="ContextLength"/>) in one call.</summary>
    /// <returns>Row-major [prompts × <see cref="EmbeddingSize"/>], each row L2-normalised.</returns>
    public float[] Encode(IReadOnlyList<int[]> prompts)
    {
        ArgumentOutOfRangeException.ThrowIfZero(prompts.Count, nameof(prompts));
        var rows = prompts.Count;
        var length = _fixedLength ?? prompts.Max(p => p.Length);
        var shape = new long[] { rows, length };
        var idValues = new long[rows * length];
        var maskValues = new long[rows * length];
        idValues.AsSpan().Fill(PadId);
        for (var r = 0; r < rows; r++)
        {
            var prompt = prompts[r];
            if (prompt.Length > length)
                throw new ArgumentException($"Prompt {r} has {prompt.Length} tokens; the model takes {length}.", nameof(prompts));
            for (var t = 0; t < prompt.Length; t++)
            {
                idValues[r * length + t] = prompt[t];
                maskValues[r * length + t] = 1;
            }
        }

        var names = new List<string>(2) { _idsName };
        var values = new List<OrtValue>(2) { CreateInteger(idValues, _idsType, shape) };
        try
        {
            if (_maskName is not null)
            {
                names.Add(_maskName);
                values.Add(CreateInteger(maskValues, _maskType, shape));
            }

            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, names, values, [_outputName]);
            Interlocked.Increment(ref _calls);
            var embeddings = new float[rows * EmbeddingSize];
            OnnxGraph.ReadNormalised(outputs[0], rows, EmbeddingSize, embeddings);
            return embeddings;
        }
        finally
        {
            foreach (var value in values)
                value.Dispose();
        }
    }

    public void Dispose() => _session.Dispose();

    private static bool IsInteger(TensorElementType type) => type is TensorElementType.Int64 or TensorElementType.Int32;

    private static OrtValue CreateInteger(long[] values, TensorElementType type, long[] shape) =>
        type == TensorElementType.Int64
            ? OrtValue.CreateTensorValueFromMemory(values, shape)
            : OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(values, v => (int)v), shape);
}
