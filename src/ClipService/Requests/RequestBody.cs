using System.Globalization;
using System.Text.Json;
using ClipService.Errors;
using Microsoft.Extensions.Primitives;

namespace ClipService.Requests;

/// <summary>The two body types the endpoints take.</summary>
public enum BodyKind
{
    Form,
    Json,
}

/// <summary>
/// Reading request bodies the same way for every feature: content type checked (415), JSON parsed with the host's
/// options (invalid JSON is a 400 saying where), uploads and form fields read with the same rules.
/// </summary>
public static class RequestBody
{
    /// <param name="accepted">What the endpoint takes, for the 415 message, e.g. "multipart/form-data (field image) or application/json".</param>
    /// <exception cref="UnsupportedMediaTypeException">Neither a form nor JSON, or a kind the endpoint does not take.</exception>
    public static BodyKind KindOf(HttpRequest request, string accepted, bool formAllowed = true)
    {
        if (formAllowed && request.HasFormContentType)
            return BodyKind.Form;
        if (request.HasJsonContentType())
            return BodyKind.Json;
        throw new UnsupportedMediaTypeException($"Send {accepted}; got '{(request.ContentType is { } type ? Echo.Of(type) : "no content type")}'.");
    }

    /// <summary>The JSON body as <typeparamref name="T"/>; a malformed or empty body is a 400.</summary>
    public static async Task<T> ReadJsonAsync<T>(HttpRequest request, JsonSerializerOptions options, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await request.ReadFromJsonAsync<T>(options, cancellationToken)
                ?? throw new BadRequestException("The JSON body is empty (null).");
        }
        catch (JsonException e)
        {
            throw new BadRequestException($"The JSON body is invalid: {JsonProblem(e)}");
        }
    }

    // The serializer names .NET types ("could not be converted to System.Nullable`1[System.Int32]"): say what the field
    // takes instead, in JSON's words.
    private static string JsonProblem(JsonException e)
    {
        if (e.Path is not { } path || !e.Message.StartsWith("The JSON value could not be converted to ", StringComparison.Ordinal))
            return e.Message;
        var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;
        var type = e.Message["The JSON value could not be converted to ".Length..];
        var expected = type switch
        {
            _ when type.Contains("Int32", StringComparison.Ordinal) => $"a whole number from {int.MinValue} to {int.MaxValue}",
            _ when type.Contains("Int64", StringComparison.Ordinal) => "a whole number",
            _ when type.Contains("Double", StringComparison.Ordinal) || type.Contains("Single", StringComparison.Ordinal) => "a number",
            _ when type.Contains("Boolean", StringComparison.Ordinal) => "true or false",
            _ when type.Contains("List", StringComparison.Ordinal) || type.Contains("[]", StringComparison.Ordinal) => "a list",
            _ when type.StartsWith("System.String", StringComparison.Ordinal) => "a string",
            _ => "a value of another type",
        };
        return $"'{Echo.Of(field)}' must be {expected} (line {e.LineNumber + 1}, position {e.BytePositionInLine + 1}).";
    }

    /// <summary>An uploaded file's bytes; an empty upload is a 400.</summary>
    public static async Task<ReadOnlyMemory<byte>> ReadFileAsync(IFormFile file, CancellationToken cancellationToken)
    {
        if (file.Length == 0)
            throw new BadRequestException($"The uploaded file '{file.Name}' is empty (0 bytes).");
        using var buffer = new MemoryStream((int)Math.Min(file.Length, int.MaxValue));
        await using var stream = file.OpenReadStream();
        await stream.CopyToAsync(buffer, cancellationToken);
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    /// <summary>The uploads in <paramref name="field"/>; a text value there instead of a file is a 400.</summary>
    public static IReadOnlyList<IFormFile> Files(IFormCollection form, string field)
    {
        var files = form.Files.GetFiles(field);
        if (files.Count == 0 && form.ContainsKey(field))
            throw new BadRequestException($"The '{field}' field must be a file upload, not text.");
        return files;
    }

    public static string? Text(IFormCollection form, string field) =>
        StringValues.IsNullOrEmpty(form[field]) ? null : form[field].ToString();

    public static List<string> Texts(IFormCollection form, string field) =>
        [.. form[field].Where(v => !string.IsNullOrEmpty(v)).Select(v => v!)];

    public static int? WholeNumber(IFormCollection form, string field)
    {
        var value = Text(form, field);
        if (value is null)
            return null;
        return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new BadRequestException($"'{field}' must be a whole number from {int.MinValue} to {int.MaxValue}; got '{Echo.Of(value)}'.");
    }
}
