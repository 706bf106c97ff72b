namespace ClipService.Core.Imaging;

public enum ImageProblem
{
    /// <summary>Not an image in a format the service decodes.</summary>
    UnsupportedFormat,

    /// <summary>A known format whose content is truncated or corrupt.</summary>
    Corrupt,

    /// <summary>Too many pixels (or too much memory) to decode safely.</summary>
    TooLarge,
}

/// <summary>An uploaded image that cannot be used; the message is safe to show to the client.</summary>
public sealed class InvalidImageException(ImageProblem problem, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public ImageProblem Problem { get; } = problem;
}
