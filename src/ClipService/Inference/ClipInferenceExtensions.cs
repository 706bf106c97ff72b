using ClipService.Core.Imaging;
using ClipService.Core.Models;

namespace ClipService.Inference;

public static class ClipInferenceExtensions
{
    /// <summary>
    /// Embeds a request's images concurrently, so the batcher encodes them together; results in input order. An image
    /// that cannot be used fails the request with its position, e.g. "images[2]: ...", when there are several.
    /// </summary>
    /// <param name="field">The request field, for error messages ("images", "input").</param>
    public static async Task<float[][]> EmbedImagesAsync(this IClipInference inference, ClipModel model, IReadOnlyList<ReadOnlyMemory<byte>> images,
        string field, CancellationToken cancellationToken) =>
        await Task.WhenAll(images.Select(async (image, i) =>
        {
            try
            {
                return await inference.EmbedImageAsync(model, image, cancellationToken);
            }
            catch (InvalidImageException e) when (images.Count > 1)
            {
                throw new InvalidImageException(e.Problem, $"{field}[{i}]: {e.Message}", e);
            }
        }));
}
