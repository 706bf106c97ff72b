using ClipService.Errors;

namespace ClipService.Requests;

/// <summary>
/// An image given as text in a JSON body: base64, a <c>data:image/...;base64,</c> URI, or an http(s) URL (fetched by
/// <see cref="IImageUrlFetcher"/>, which refuses unless URL inputs are enabled).
/// </summary>
public sealed class ImageInputs(IImageUrlFetcher urls)
{
    /// <summary>The images of one request, in order: base64 and data: URIs decoded, URLs fetched together (see
    /// <see cref="IImageUrlFetcher.FetchAsync"/>).</summary>
    /// <param name="field">The field's name for error messages, e.g. "image" or "images[3]", by position.</param>
    public async Task<ReadOnlyMemory<byte>[]> ReadAsync(IReadOnlyList<string?> values, Func<int, string> field, HttpContext request,
        CancellationToken cancellationToken)
    {
        var images = new ReadOnlyMemory<byte>[values.Count];
        List<(int Index, ImageUrl Url)>? fetches = null;
        for (var i = 0; i < values.Count; i++)
        {
            var value = values[i];
            if (string.IsNullOrEmpty(value))
                throw new BadRequestException($"'{field(i)}' is empty: give the image base64-encoded, as a data: URI, or as an http(s) URL.");
            if (value.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                (fetches ??= []).Add(Uri.TryCreate(value, UriKind.Absolute, out var url)
                    ? (i, new ImageUrl(url, field(i)))
                    : throw new BadRequestException($"'{field(i)}' is not a valid URL."));
            }
            else
            {
                images[i] = DecodeBase64(value, field(i));
            }
        }

        if (fetches is not null)
        {
            var fetched = await urls.FetchAsync([.. fetches.Select(f => f.Url)], request, cancellationToken);
            for (var i = 0; i < fetches.Count; i++)
                images[fetches[i].Index] = fetched[i];
        }

        return images;
    }

    /// <summary>Base64, with or without a <c>data:...;base64,</c> prefix.</summary>
    public static byte[] DecodeBase64(string value, string field)
    {
        var payload = value;
        if (value.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            var comma = value.IndexOf(',', StringComparison.Ordinal);
            if (comma < 0 || !value.AsSpan(0, comma).EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
                throw new BadRequestException($"'{field}' is a data: URI but not a base64 one (data:image/...;base64,...).");
            payload = value[(comma + 1)..];
        }

        try
        {
            var bytes = Convert.FromBase64String(payload);
            return bytes.Length > 0 ? bytes : throw new BadRequestException($"'{field}' holds no bytes.");
        }
        catch (FormatException)
        {
            throw new BadRequestException($"'{field}' is not valid base64 (nor a data: URI or an http(s) URL).");
        }
    }
}
