using System.Numerics.Tensors;
using ClipService.Core.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ClipService.Core.Encoders;

/// <summary>What the encoders read from an ONNX graph's metadata, and the output handling they share.</summary>
internal static class OnnxGraph
{
    /// <summary>The embedding output: the conventional name if present, else the only rank-2 float output.</summary>
    public static (string Name, NodeMetadata Metadata) EmbeddingOutput(InferenceSession session, string conventionalName, string file)
    {
        if (session.OutputMetadata.TryGetValue(conventionalName, out var named))
            return (conventionalName, named);
        var candidates = session.OutputMetadata.Where(o => o.Value.Dimensions.Length == 2 && IsFloat(o.Value.ElementDataType)).ToList();
        return candidates.Count >= 1
            ? (candidates[0].Key, candidates[0].Value)
            : throw new ModelFolderException(
                $"{file}: no '{conventionalName}' output and no [batch, dim] float output among {Describe(session.OutputMetadata)}.");
    }

    public static int EmbeddingSize(NodeMetadata output, string file) =>
        output.Dimensions is [_, > 0 and var size]
            ? size
            : throw new ModelFolderException($"{file}: the embedding output's size is not fixed ({string.Join("×", output.Dimensions)}).");

    public static bool IsFloat(TensorElementType type) => type is TensorElementType.Float or TensorElementType.Float16;

    public static string Describe(IReadOnlyDictionary<string, NodeMetadata> nodes) =>
        string.Join(", ", nodes.Select(n => $"{n.Key} {n.Value.ElementDataType}[{string.Join(",", n.Value.Dimensions)}]"));

    /// <summary>Copies the embeddings out of an output value (fp32 or fp16) and L2-normalises each row.</summary>
    public static void ReadNormalised(OrtValue output, int rows, int size, Span<float> destination)
    {
        var target = destination[..(rows * size)];
        if (output.GetTensorTypeAndShape().ElementDataType == TensorElementType.Float16)
        {
            var halves = output.GetTensorDataAsSpan<Float16>();
            for (var i = 0; i < target.Length; i++)
                target[i] = (float)halves[i];
        }
        else
        {
            output.GetTensorDataAsSpan<float>()[..target.Length].CopyTo(target);
        }

        for (var r = 0; r < rows; r++)
            NormaliseInPlace(target.Slice(r * size, size));
    }

    public static void NormaliseInPlace(Span<float> vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        if (norm > 0 && float.IsFinite(norm))
            TensorPrimitives.Divide(vector, norm, vector);
    }
}
