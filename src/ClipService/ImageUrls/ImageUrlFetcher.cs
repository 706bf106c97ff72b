using System.Net;
using ClipService.Errors;
using ClipService.Requests;
using Microsoft.Extensions.Options;

namespace ClipService.ImageUrls;

/// <summary>
/// Fetches images given as http(s) URLs, when Clip:ImageUrls:Enabled: only from Clip:ImageUrls:AllowedHosts, never
/// from non-public addresses unless allowed, redirects followed only to the same scheme, host and port, the size checked before
/// (Content-Length) and while reading, a content type of image/*, everything within one deadline.
/// </summary>
public sealed class ImageUrlFetcher(IHttpClientFactory clients, IOptions<ImageUrlOptions> options) : IImageUrlFetcher
{
    public const string ClientName = "ImageUrls";

    public async Task<ReadOnlyMemory<byte>> FetchAsync(Uri url, string field, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
            throw new BadRequestException($"'{field}' is a URL, but image URLs are not enabled on this service (Clip:ImageUrls:Enabled); send the image base64-encoded.");
        CheckAllowed(url, field, settings);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(settings.TimeoutSeconds));
        try
        {
            return await FetchWithinDeadlineAsync(url, field, settings, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BadRequestException($"'{field}': {url.Host} did not deliver the image within {settings.TimeoutSeconds} s (Clip:ImageUrls:TimeoutSeconds).");
        }
        catch (HttpRequestException e) when (e.InnerException is ForbiddenAddressException forbidden)
        {
            throw new BadRequestException($"'{field}': {forbidden.Message} Such addresses are refused (Clip:ImageUrls:AllowPrivateNetworks).");
        }
        catch (HttpRequestException e)
        {
            throw new BadRequestException($"'{field}': the image could not be fetched from {url.Host} ({e.HttpRequestError}).");
        }
    }

    private async Task<ReadOnlyMemory<byte>> FetchWithinDeadlineAsync(Uri url, string field, ImageUrlOptions settings, CancellationToken cancellationToken)
    {
        var client = clients.CreateClient(ClientName);
        var current = url;
        for (var redirects = 0; ; redirects++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, current);
            request.Headers.Accept.ParseAdd("image/*");
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (IsRedirect(response.StatusCode) && response.Headers.Location is { } location)
            {
                var next = location.IsAbsoluteUri ? location : new Uri(current, location);
                // Same scheme, host and port only: no https → http downgrade, no hop to another service on the host.
                if (!string.Equals(next.Host, url.Host, StringComparison.OrdinalIgnoreCase) || next.Scheme != url.Scheme || next.Port != url.Port)
                {
                    throw new BadRequestException(
                        $"'{field}': {Origin(url)} redirects to {Origin(next)}; redirects are followed only to the same scheme, host and port.");
                }

                if (redirects >= settings.MaxRedirects)
                    throw new BadRequestException($"'{field}': more than {settings.MaxRedirects} redirects (Clip:ImageUrls:MaxRedirects).");
                current = next;
                continue;
            }

            if (!response.IsSuccessStatusCode)
                throw new BadRequestException($"'{field}': {url.Host} answered {(int)response.StatusCode} {response.ReasonPhrase} for the image.");
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (mediaType is null || !mediaType.StartsWith("image/", StringComparison.OrdinalIgnoreCase))
                throw new UnsupportedMediaTypeException($"'{field}': the URL gives '{mediaType ?? "no content type"}', not an image (image/*).");
            if (response.Content.Headers.ContentLength > settings.MaxBytes)
                throw new ImageUrlTooLargeException(field, settings.MaxBytes);
            return await ReadCappedAsync(response.Content, field, settings.MaxBytes, cancellationToken);
        }
    }

    // Content-Length may be absent or wrong: the cap holds while reading too.
    private static async Task<ReadOnlyMemory<byte>> ReadCappedAsync(HttpContent content, string field, long maxBytes, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
                throw new ImageUrlTooLargeException(field, maxBytes);
            buffer.Write(chunk, 0, read);
        }

        return buffer.Length > 0 ? buffer.GetBuffer().AsMemory(0, (int)buffer.Length) : throw new BadRequestException($"'{field}': the URL gives an empty body.");
    }

    private static void CheckAllowed(Uri url, string field, ImageUrlOptions settings)
    {
        if (url.Scheme is not ("http" or "https"))
            throw new BadRequestException($"'{field}': only http and https URLs are fetched.");
        if (!settings.IsAllowed(url.Host))
            throw new BadRequestException($"'{field}': the host '{url.Host}' is not in Clip:ImageUrls:AllowedHosts.");
    }

    private static string Origin(Uri url) => Echo.Of(url.GetLeftPart(UriPartial.Authority), 200);

    private static bool IsRedirect(HttpStatusCode status) => (int)status is >= 300 and < 400 and not 304;
}

/// <summary>413: the image at a URL is larger than Clip:ImageUrls:MaxBytes.</summary>
public sealed class ImageUrlTooLargeException(string field, long limit)
    : ClientErrorException(StatusCodes.Status413PayloadTooLarge, "Image too large", $"'{field}': the image at the URL exceeds {limit:N0} bytes (Clip:ImageUrls:MaxBytes).");
