using ClipService.Core.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ClipService.Core.Encoders;

/// <summary>How a family lays prompts out for its text tower.</summary>
/// <param name="ConfiguredContextLength">The positions the folder's config gives, if any.</param>
/// <param name="DefaultContextLength">The family's context when neither the graph nor the config fixes it.</param>
/// <param name="PadId">The id every position after a prompt holds.</param>
/// <param name="PadToContext">Always pad to the full context: a tower without an attention mask that pools a fixed
/// position (SigLIP pools the last one) gives another embedding for every other length.</param>
public sealed record TextInputRule(int? ConfiguredContextLength, int DefaultContextLength, int PadId, bool PadToContext);

/// <summary>
/// The text tower: token ids (int32 or int64, as the graph declares) with an attention mask and token type ids
/// (zeros) when the graph takes them → L2-normalised embeddings. Unless the family's <see cref="TextInputRule"/>
/// pads to the full context, a graph with a dynamic sequence axis gets batches padded only to their longest
/// prompt, which gives the same embeddings (masked or causal attention) for less work. A graph with a fixed
/// batch size (immich's exports take one) is run once per that many prompts. Safe for concurrent use:
/// <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string})"/>
/// is thread-safe and each call owns its buffers.
/// </summary>
public sealed class TextEncoder : IDisposable
{
    private readonly InferenceSession _session;
    private readonly SessionLease _lease;
    private readonly string _idsName;
    private readonly TensorElementType _idsType;
    private readonly string? _maskName;
    private readonly TensorElementType _maskType;
    private readonly string? _typeIdsName;
    private readonly TensorElementType _typeIdsType;
    private readonly string _outputName;
    private readonly int? _fixedLength;
    private readonly int? _fixedBatch;
    private readonly bool _padToContext;
    private long _calls;

    internal TextEncoder(EncoderSession session, string file, TextInputRule rule)
    {
        _session = session.Session;
        _lease = new SessionLease(_session, file);
        Provider = session.Provider;
        PadId = rule.PadId;
        _padToContext = rule.PadToContext;
        var inputs = _session.InputMetadata;
        _maskName = inputs.Keys.FirstOrDefault(k => k.Contains("mask", StringComparison.OrdinalIgnoreCase));
        _typeIdsName = inputs.Keys.FirstOrDefault(k => k.Contains("token_type", StringComparison.OrdinalIgnoreCase));
        _idsName = inputs.ContainsKey("input_ids")
            ? "input_ids"
            : inputs.FirstOrDefault(i => IsInteger(i.Value.ElementDataType) && i.Key != _maskName && i.Key != _typeIdsName).Key
              ?? throw new ModelFolderException($"{file}: no integer token-id input among {OnnxGraph.Describe(inputs)}.");
        var unknown = inputs.Keys.Where(k => k != _idsName && k != _maskName && k != _typeIdsName).ToList();
        if (unknown.Count > 0)
            throw new ModelFolderException($"{file}: unsupported text encoder input(s) {string.Join(", ", unknown)}; expected token ids and optionally an attention mask and token type ids.");

        var ids = inputs[_idsName];
        _idsType = ids.ElementDataType;
        if (!IsInteger(_idsType) || ids.Dimensions.Length != 2)
            throw new ModelFolderException($"{file}: input '{_idsName}' is {_idsType}[{string.Join(",", ids.Dimensions)}]; expected int32 or int64 [batch, sequence].");
        if (_maskName is not null)
            _maskType = IntegerType(inputs[_maskName], _maskName, file);
        if (_typeIdsName is not null)
            _typeIdsType = IntegerType(inputs[_typeIdsName], _typeIdsName, file);

        _fixedBatch = ids.Dimensions[0] > 0 ? ids.Dimensions[0] : null;
        _fixedLength = ids.Dimensions[1] > 0 ? ids.Dimensions[1] : null;
        ContextLength = _fixedLength ?? rule.ConfiguredContextLength ?? rule.DefaultContextLength;
        if (_fixedLength is { } fixedLength && rule.ConfiguredContextLength is { } configured && configured < fixedLength)
            throw new ModelFolderException($"{file}: takes {fixedLength} tokens but config.json allows {configured} positions.");

        (_outputName, var output) = OnnxGraph.EmbeddingOutput(_session, "text_embeds", file);
        EmbeddingSize = OnnxGraph.EmbeddingSize(output, file);
    }

    public string Provider { get; }
    public int ContextLength { get; }
    public int EmbeddingSize { get; }
    public int PadId { get; }

    /// <summary>The batch size the graph is fixed to, if it is (immich's exports: 1).</summary>
    public int? FixedBatchSize => _fixedBatch;

    /// <summary>Encoder calls so far (each is one Run).</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Encodes tokenised prompts (with their special tokens, at most <see cref="ContextLength"/>).</summary>
    /// <returns>Row-major [prompts × <see cref="EmbeddingSize"/>], each row L2-normalised.</returns>
    /// <exception cref="ObjectDisposedException">The encoder has been disposed; a call in progress then keeps its session.</exception>
    public float[] Encode(IReadOnlyList<int[]> prompts)
    {
        ArgumentOutOfRangeException.ThrowIfZero(prompts.Count, nameof(prompts));
        var embeddings = new float[prompts.Count * EmbeddingSize];
        var runSize = _fixedBatch ?? prompts.Count;
        _lease.Enter();
        try
        {
            for (var first = 0; first < prompts.Count; first += runSize)
            {
                var rows = Math.Min(runSize, prompts.Count - first);
                EncodeRun(prompts, first, rows, embeddings.AsSpan(first * EmbeddingSize, rows * EmbeddingSize));
            }
        }
        finally
        {
            _lease.Exit();
        }

        return embeddings;
    }

    private void EncodeRun(IReadOnlyList<int[]> prompts, int first, int count, Span<float> destination)
    {
        // A fixed-batch graph gets its whole batch; rows past the prompts are padding, their output dropped.
        var rows = _fixedBatch ?? count;
        var length = _fixedLength ?? (_padToContext ? ContextLength : MaxLength(prompts, first, count));
        var shape = new long[] { rows, length };
        var idValues = new long[rows * length];
        var maskValues = new long[rows * length];
        idValues.AsSpan().Fill(PadId);
        for (var r = 0; r < count; r++)
        {
            var prompt = prompts[first + r];
            if (prompt.Length > length)
                throw new ArgumentException($"Prompt {first + r} has {prompt.Length} tokens; the model takes {length}.", nameof(prompts));
            for (var t = 0; t < prompt.Length; t++)
            {
                idValues[r * length + t] = prompt[t];
                maskValues[r * length + t] = 1;
            }
        }

        var names = new List<string>(3) { _idsName };
        var values = new List<OrtValue>(3) { CreateInteger(idValues, _idsType, shape) };
        try
        {
            if (_maskName is not null)
            {
                names.Add(_maskName);
                values.Add(CreateInteger(maskValues, _maskType, shape));
            }

            if (_typeIdsName is not null)
            {
                names.Add(_typeIdsName);
                values.Add(CreateInteger(new long[rows * length], _typeIdsType, shape));
            }

            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, names, values, [_outputName]);
            Interlocked.Increment(ref _calls);
            OnnxGraph.ReadNormalised(outputs[0], count, EmbeddingSize, destination);
        }
        finally
        {
            foreach (var value in values)
                value.Dispose();
        }
    }

    /// <summary>Frees the session once no call is using it; calls starting afterwards throw.</summary>
    public void Dispose() => _lease.Release();

    private static int MaxLength(IReadOnlyList<int[]> prompts, int first, int count)
    {
        var longest = 0;
        for (var i = first; i < first + count; i++)
            longest = Math.Max(longest, prompts[i].Length);
        return longest;
    }

    private static TensorElementType IntegerType(NodeMetadata input, string name, string file) =>
        IsInteger(input.ElementDataType) ? input.ElementDataType
            : throw new ModelFolderException($"{file}: input '{name}' is {input.ElementDataType}; expected integers.");

    private static bool IsInteger(TensorElementType type) => type is TensorElementType.Int64 or TensorElementType.Int32;

    private static OrtValue CreateInteger(long[] values, TensorElementType type, long[] shape) =>
        type == TensorElementType.Int64
            ? OrtValue.CreateTensorValueFromMemory(values, shape)
            : OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(values, v => (int)v), shape);
}
