using System.Text.Json;
using ClipService.Core.Scoring;
using ClipService.Errors;
using ClipService.Models;
using ClipService.Requests;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Primitives;

namespace ClipService.Classification;

/// <summary>A /classify request, read from either content type and validated.</summary>
internal sealed record ClassifyInput(ReadOnlyMemory<byte> Image, IReadOnlyList<string> Labels, IReadOnlyList<string> Templates, string? Model, int? TopK);

/// <summary>Reads /classify bodies: multipart/form-data or application/json, with the same rules for both.</summary>
internal static class ClassifyRequestReader
{
    public static async Task<ClassifyInput> ReadAsync(HttpRequest request, RequestLimitsOptions options, JsonOptions json, CancellationToken cancellationToken)
    {
        if (request.HasFormContentType)
            return await ReadFormAsync(request, options, cancellationToken);
        if (request.HasJsonContentType())
            return await ReadJsonAsync(request, options, json, cancellationToken);
        throw new UnsupportedMediaTypeException(
            $"Send multipart/form-data (fields image, labels) or application/json; got '{request.ContentType ?? "no content type"}'.");
    }

    private static async Task<ClassifyInput> ReadFormAsync(HttpRequest request, RequestLimitsOptions options, CancellationToken cancellationToken)
    {
        var form = await request.ReadFormAsync(cancellationToken);
        var file = form.Files.GetFile("image")
            ?? throw new BadRequestException(form.ContainsKey("image")
                ? "The 'image' field must be a file upload, not text."
                : "The multipart field 'image' (the image file) is required.");
        var image = await ReadFileAsync(file, cancellationToken);
        var labels = SplitLabels(form["labels"]);
        return Validate(image, labels, NullIfEmpty(form["template"]), form["templates"].Where(t => !string.IsNullOrEmpty(t)).ToList()!,
            NullIfEmpty(form["model"]), ParseTopK(form["top_k"]), options);
    }

    private static async Task<ClassifyInput> ReadJsonAsync(HttpRequest request, RequestLimitsOptions options, JsonOptions json, CancellationToken cancellationToken)
    {
        ClassifyJsonRequest? body;
        try
        {
            body = await request.ReadFromJsonAsync<ClassifyJsonRequest>(json.SerializerOptions, cancellationToken);
        }
        catch (JsonException e)
        {
            throw new BadRequestException($"The JSON body is invalid: {e.Message}");
        }

        if (body is null)
            throw new BadRequestException("The JSON body is empty.");
        if (string.IsNullOrEmpty(body.Image))
            throw new BadRequestException("'image' (the image file, base64-encoded) is required.");
        return Validate(DecodeBase64(body.Image), body.Labels ?? [], body.Template, body.Templates ?? [], body.Model, body.TopK, options);
    }

    internal static ClassifyInput Validate(ReadOnlyMemory<byte> image, IReadOnlyList<string> labels, string? template,
        IReadOnlyList<string> templates, string? model, int? topK, RequestLimitsOptions options)
    {
        var cleaned = LabelRules.Validate(labels, options);
        if (topK is < 1)
            throw new BadRequestException("'top_k' must be at least 1.");
        return new ClassifyInput(image, cleaned, ResolveTemplates(template, templates, options), model, topK);
    }

    private static List<string> ResolveTemplates(string? template, IReadOnlyList<string> templates, RequestLimitsOptions options)
    {
        if (template is not null && templates.Count > 0)
            throw new BadRequestException("Give either 'template' or 'templates', not both.");
        if (template is not null)
        {
            return PromptTemplates.IsValid(template) ? [template]
                : throw new BadRequestException($"'template' must contain {PromptTemplates.Placeholder} where the label goes; got '{template}'.");
        }

        if (templates.Count == 0)
            return [PromptTemplates.Default];
        if (templates.Count == 1 && !PromptTemplates.IsValid(templates[0]))
        {
            return PromptTemplates.Named.TryGetValue(templates[0], out var named) ? [.. named]
                : throw new BadRequestException(
                    $"'{templates[0]}' is neither a template (no {PromptTemplates.Placeholder}) nor a named set ({string.Join(", ", PromptTemplates.Named.Keys)}).");
        }

        if (templates.Count > options.MaxTemplates)
            throw new BadRequestException($"At most {options.MaxTemplates} templates are accepted; got {templates.Count}.");
        var invalid = templates.FirstOrDefault(t => !PromptTemplates.IsValid(t));
        return invalid is null ? [.. templates]
            : throw new BadRequestException($"Every template must contain {PromptTemplates.Placeholder}; '{invalid}' does not.");
    }

    // Swagger UI sends an array field as one comma-joined value; repeated fields are taken as they are.
    private static List<string> SplitLabels(StringValues values) =>
        values.Count == 1 && values[0]!.Contains(',', StringComparison.Ordinal)
            ? [.. values[0]!.Split(',', StringSplitOptions.TrimEntries)]
            : [.. values.Select(v => v ?? "")];

    private static int? ParseTopK(StringValues value)
    {
        if (StringValues.IsNullOrEmpty(value))
            return null;
        return int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var k)
            ? k
            : throw new BadRequestException($"'top_k' must be a whole number; got '{value}'.");
    }

    private static string? NullIfEmpty(StringValues value) => StringValues.IsNullOrEmpty(value) ? null : value.ToString();

    internal static async Task<ReadOnlyMemory<byte>> ReadFileAsync(IFormFile file, CancellationToken cancellationToken)
    {
        if (file.Length == 0)
            throw new BadRequestException("The uploaded image is empty (0 bytes).");
        using var buffer = new MemoryStream((int)Math.Min(file.Length, int.MaxValue));
        await using var stream = file.OpenReadStream();
        await stream.CopyToAsync(buffer, cancellationToken);
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    internal static byte[] DecodeBase64(string value)
    {
        var comma = value.StartsWith("data:", StringComparison.OrdinalIgnoreCase) ? value.IndexOf(',', StringComparison.Ordinal) : -1;
        var payload = comma >= 0 ? value[(comma + 1)..] : value;
        try
        {
            return Convert.FromBase64String(payload);
        }
        catch (FormatException)
        {
            throw new BadRequestException("'image' is not valid base64.");
        }
    }
}
