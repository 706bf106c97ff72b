namespace ClipService.Requests;

/// <summary>An image URL from a request, and the field it came in (for error messages).</summary>
public sealed record ImageUrl(Uri Url, string Field);

/// <summary>Fetches images given as http(s) URLs in a request (when the deployment allows it).</summary>
public interface IImageUrlFetcher
{
    /// <summary>Fetches one request's URLs, in order. Admission to the process-wide download budget comes before any
    /// download; what was downloaded stays counted against it until <paramref name="request"/> ends.</summary>
    /// <exception cref="Errors.ClientErrorException">URL inputs are disabled, a URL is not allowed or cannot be fetched,
    /// or the download budget is full (503).</exception>
    Task<ReadOnlyMemory<byte>[]> FetchAsync(IReadOnlyList<ImageUrl> urls, HttpContext request, CancellationToken cancellationToken);
}
