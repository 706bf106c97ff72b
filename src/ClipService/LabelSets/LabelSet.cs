namespace ClipService.LabelSets;

/// <summary>A named list of labels, with the templates to put them in (none: the request's or the default).</summary>
/// <param name="Name">The file name without .json.</param>
/// <param name="Labels">In the file's order; may repeat a name where the source has two classes of that name
/// (ImageNet's two "missile" and "sunglasses" classes).</param>
/// <param name="Templates">Null when the set names none.</param>
/// <param name="Version">Changes whenever the content does, so embeddings of an edited set are recomputed.</param>
/// <param name="Language">The labels' language (ISO 639-1, the file's "language"); null when the file does not say.
/// The precompute skips a set in a language the model was not trained on (imagenet-zh for an English CLIP).</param>
public sealed record LabelSet(string Name, IReadOnlyList<string> Labels, IReadOnlyList<string>? Templates, string? Description, string Source, string Version,
    string? Language = null);
