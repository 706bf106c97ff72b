using System.Collections.Concurrent;
using ClipService.Inference;
using ClipService.Models;
using Microsoft.Extensions.Options;

namespace ClipService.Admission;

/// <summary>One <see cref="AdmissionGate"/> per model name, made on first use.</summary>
public sealed class AdmissionGates(ModelRegistry models, IOptions<AdmissionOptions> admission, IOptions<BatchingOptions> batching)
{
    private readonly ConcurrentDictionary<string, AdmissionGate> _gates = new(StringComparer.Ordinal);

    /// <summary>The gate of the model a request names before its body: the query's <c>model</c> if it is a loaded
    /// model, else the default. (A model named only inside the body is counted against the default model's gate.)</summary>
    public AdmissionGate For(string? requested)
    {
        var name = !string.IsNullOrEmpty(requested) && models.Models.Any(m => m.Name == requested) ? requested : models.DefaultModel;
        return _gates.GetOrAdd(name, n => new AdmissionGate(n, admission.Value.Capacity(batching.Value.MaxQueuedImages, batching.Value.LargestBatchSize)));
    }
}
