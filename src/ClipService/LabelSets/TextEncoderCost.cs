using System.Diagnostics;
using ClipService.Core.Models;
using ClipService.Core.Scoring;
using ClipService.Inference;

namespace ClipService.LabelSets;

/// <summary>What one prompt costs the background text encoder, for the precompute's auto rule (a seam tests replace).</summary>
public interface ITextEncoderCost
{
    /// <summary>CPU seconds (on one core) per prompt, measured on <paramref name="model"/>'s background encoder.</summary>
    Task<double> SecondsPerPromptAsync(ClipModel model, CancellationToken cancellationToken);
}

/// <summary>
/// Times the model's single-threaded background encoder on one run of <see cref="ClipInference.BackgroundRunSize"/>
/// typical prompts (after one untimed run that pays the session's first-run cost), while no request needs the
/// encoder. One thread, so its wall time is its CPU time.
/// </summary>
public sealed class MeasuredTextEncoderCost(BackgroundTextEncoders encoders, InferenceGate gate) : ITextEncoderCost
{
    public async Task<double> SecondsPerPromptAsync(ClipModel model, CancellationToken cancellationToken)
    {
        var prompts = Enumerable.Range(0, ClipInference.BackgroundRunSize)
            .Select(i => model.Tokenizer.Tokenize(PromptTemplates.Apply(PromptTemplates.ImageNet80[i % PromptTemplates.ImageNet80.Count], "golden retriever"), model.ContextLength))
            .ToArray();
        var encoder = encoders.For(model);
        await gate.WhenIdleAsync(cancellationToken);
        encoder.Encode(prompts);
        await gate.WhenIdleAsync(cancellationToken);
        var started = Stopwatch.GetTimestamp();
        encoder.Encode(prompts);
        return Stopwatch.GetElapsedTime(started).TotalSeconds / prompts.Length;
    }
}
