namespace ClipService.Evaluation;

/// <summary>
/// What evaluate classifies and embeds with: a deployment over HTTP (<see cref="EvaluationClient"/>, --url) or the
/// service's engine in this process (<see cref="EngineTarget"/>, the default). Both answer what /classify,
/// /embed/image and /embed/text would, refusals included, so the two give the same report.
/// </summary>
public interface IEvaluationTarget
{
    Task<IReadOnlyList<ServedModel>> ModelsAsync(CancellationToken cancellationToken);

    /// <summary>The labels ranked for the image, best first, cut to <paramref name="topK"/>.</summary>
    /// <exception cref="RefusedException">The service refuses this input (it is skipped).</exception>
    /// <exception cref="TargetUnavailableException">The service cannot go on (the run stops).</exception>
    Task<ClassifyAnswer> ClassifyAsync(byte[] image, IReadOnlyList<string> labels, string model, TemplateChoice prompts, int topK, CancellationToken cancellationToken);

    Task<float[]> EmbedImageAsync(byte[] image, string model, CancellationToken cancellationToken);

    Task<float[][]> EmbedTextsAsync(IReadOnlyList<string> texts, string model, CancellationToken cancellationToken);
}

/// <summary>The service refused an input (a 4xx other than 429, or a 5xx): the image is skipped. The reason reads
/// "HTTP status: detail" on both targets.</summary>
public sealed class RefusedException(string reason) : Exception(reason);

/// <summary>The service cannot be reached or keeps answering in a way that is not about one input: the run stops.</summary>
public sealed class TargetUnavailableException(string reason) : Exception(reason);

/// <summary>A model as GET /models describes it (the fields evaluate uses).</summary>
public sealed record ServedModel(string Name, bool Default, string Family, string Scoring, string Provider);

public sealed record RankedLabel(string Label, float Score, float Similarity);

public sealed record ClassifyAnswer(string Model, string Scoring, IReadOnlyList<RankedLabel> Labels, IReadOnlyList<string> Templates);

