namespace ClipService.Requests;

/// <summary>Fetches an image given as an http(s) URL in a request (when the deployment allows it).</summary>
public interface IImageUrlFetcher
{
    /// <exception cref="Errors.ClientErrorException">URL inputs are disabled, or this URL is not allowed or cannot be fetched.</exception>
    Task<ReadOnlyMemory<byte>> FetchAsync(Uri url, string field, CancellationToken cancellationToken);
}
