using System.Net;
using ClipService.Admission;
using ClipService.Errors;
using ClipService.Requests;
using Microsoft.Extensions.Options;

namespace ClipService.ImageUrls;

/// <summary>
/// Fetches images given as http(s) URLs, when Clip:ImageUrls:Enabled: only from Clip:ImageUrls:AllowedHosts, never
/// from non-public addresses unless allowed, redirects followed only to the same scheme, host and port, the size checked before
/// (Content-Length) and while reading, a content type of image/*, everything within one deadline per URL. All requests'
/// downloads share one <see cref="FetchBudget"/> (Clip:ImageUrls:MaxConcurrentFetches and MaxBytesInFlight), entered
/// before any download.
/// </summary>
public sealed class ImageUrlFetcher(IHttpClientFactory clients, IOptions<ImageUrlOptions> options, FetchBudget budget) : IImageUrlFetcher
{
    public const string ClientName = "ImageUrls";
    private const int UnannouncedFirstBuffer = 64 * 1024;

    public async Task<ReadOnlyMemory<byte>[]> FetchAsync(IReadOnlyList<ImageUrl> urls, HttpContext request, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        foreach (var (url, field) in urls)
        {
            if (!settings.Enabled)
                throw new BadRequestException($"'{field}' is a URL, but image URLs are not enabled on this service (Clip:ImageUrls:Enabled); send the image base64-encoded.");
            CheckAllowed(url, field, settings);
        }

        var lease = budget.Enter(urls.Count);
        request.Response.RegisterForDispose(lease);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var images = new ReadOnlyMemory<byte>[urls.Count];
        var next = -1;
        Exception? first = null;
        async Task WorkAsync()
        {
            for (var i = Interlocked.Increment(ref next); i < urls.Count && first is null; i = Interlocked.Increment(ref next))
            {
                try
                {
                    images[i] = await FetchOneAsync(urls[i], settings, lease, failed.Token);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    // The first failure is the answer; the other downloads stop (and fail with a cancellation, not reported).
                    if (Interlocked.CompareExchange(ref first, e, null) is null)
                        await failed.CancelAsync();
                    return;
                }
            }
        }

        try
        {
            await Task.WhenAll(Enumerable.Range(0, lease.Slots).Select(_ => WorkAsync()));
        }
        finally
        {
            lease.EndFetches();
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (first is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        return images;
    }

    private async Task<ReadOnlyMemory<byte>> FetchOneAsync(ImageUrl image, ImageUrlOptions settings, FetchBudget.Lease lease, CancellationToken cancellationToken)
    {
        var (url, field) = image;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(settings.TimeoutSeconds));
        try
        {
            return await FetchWithinDeadlineAsync(url, field, settings, lease, deadline.Token);
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

    private async Task<ReadOnlyMemory<byte>> FetchWithinDeadlineAsync(Uri url, string field, ImageUrlOptions settings, FetchBudget.Lease lease,
        CancellationToken cancellationToken)
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
            return await ReadCappedAsync(response.Content, field, settings.MaxBytes, lease, cancellationToken);
        }
    }

    // Content-Length may be absent or wrong: the cap holds while reading too. Every buffer is charged to the request's
    // lease before it is allocated, so the bytes held by downloads never pass Clip:ImageUrls:MaxBytesInFlight.
    private static async Task<ReadOnlyMemory<byte>> ReadCappedAsync(HttpContent content, string field, long maxBytes, FetchBudget.Lease lease,
        CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var announced = content.Headers.ContentLength;
        var size = (int)Math.Min(announced is > 0 ? announced.Value : UnannouncedFirstBuffer, maxBytes);
        lease.Charge(size);
        var buffer = new byte[size];
        var filled = 0;
        var probe = new byte[1];
        while (true)
        {
            if (filled == buffer.Length)
            {
                // Full: the body ends here, or grows the buffer (one byte more than the cap is too large).
                if (await stream.ReadAsync(probe, cancellationToken) == 0)
                    break;
                if (buffer.Length >= maxBytes)
                    throw new ImageUrlTooLargeException(field, maxBytes);
                var grown = (int)Math.Min((long)buffer.Length * 2, maxBytes);
                lease.Charge(grown - buffer.Length);
                Array.Resize(ref buffer, grown);
                buffer[filled++] = probe[0];
            }

            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            if (read == 0)
                break;
            filled += read;
        }

        return filled > 0 ? buffer.AsMemory(0, filled) : throw new BadRequestException($"'{field}': the URL gives an empty body.");
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
