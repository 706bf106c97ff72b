using ClipService.Errors;
using ClipService.Models;
using ClipService.Requests;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Primitives;

namespace ClipService.Classification;

/// <summary>What a classification asks for besides its images, as given (validated by <see cref="ZeroShotLabels"/>).</summary>
internal sealed record LabelChoice(IReadOnlyList<string>? Labels, string? LabelSet, string? Template, IReadOnlyList<string> Templates, string? Model, int? TopK);

/// <summary>A /classify or /classify/batch request: the images' bytes in input order, and the label choice.</summary>
internal sealed record ClassifyInput(IReadOnlyList<ReadOnlyMemory<byte>> Images, LabelChoice Choice);

/// <summary>Reads /classify and /classify/batch bodies: multipart/form-data or application/json, with the same rules for both.</summary>
internal static class ClassifyRequestReader
{
    public static async Task<ClassifyInput> ReadAsync(HttpRequest request, bool batch, ImageInputs images, RequestLimitsOptions options, JsonOptions json,
        CancellationToken cancellationToken)
    {
        var field = batch ? "images" : "image";
        var kind = RequestBody.KindOf(request, $"multipart/form-data (fields {field}, labels or label_set) or application/json");
        return kind == BodyKind.Form
            ? await ReadFormAsync(request, batch, options, cancellationToken)
            : await ReadJsonAsync(request, batch, images, options, json, cancellationToken);
    }

    private static async Task<ClassifyInput> ReadFormAsync(HttpRequest request, bool batch, RequestLimitsOptions options, CancellationToken cancellationToken)
    {
        var form = await request.ReadFormAsync(cancellationToken);
        var files = RequestBody.Files(form, batch ? "images" : "image");
        if (!batch && files.Count > 1)
            throw new BadRequestException($"{files.Count} 'image' parts were sent; /classify takes one image. Send several as 'images' parts to /classify/batch.");
        if (files.Count == 0)
        {
            throw new BadRequestException(batch
                ? "The multipart field 'images' (one part per image file) is required."
                : "The multipart field 'image' (the image file) is required.");
        }

        CheckCount(files.Count, options);
        var images = new ReadOnlyMemory<byte>[files.Count];
        for (var i = 0; i < files.Count; i++)
            images[i] = await RequestBody.ReadFileAsync(files[i], cancellationToken);
        var labels = form.ContainsKey("labels") ? SplitLabels(form["labels"]) : null;
        return new ClassifyInput(images, new LabelChoice(labels, RequestBody.Text(form, "label_set"), RequestBody.Text(form, "template"),
            RequestBody.Texts(form, "templates"), RequestBody.Text(form, "model"), RequestBody.WholeNumber(form, "top_k")));
    }

    private static async Task<ClassifyInput> ReadJsonAsync(HttpRequest request, bool batch, ImageInputs inputs, RequestLimitsOptions options, JsonOptions json,
        CancellationToken cancellationToken)
    {
        ClassifyJsonOptions body;
        IReadOnlyList<string?> given;
        if (batch)
        {
            var batchBody = await RequestBody.ReadJsonAsync<ClassifyBatchJsonRequest>(request, json.SerializerOptions, cancellationToken);
            given = batchBody.Images ?? throw new BadRequestException("'images' is required: a list of images, each base64-encoded or a data: URI.");
            if (given.Count == 0)
                throw new BadRequestException("'images' is empty: give at least one image.");
            body = batchBody;
        }
        else
        {
            var single = await RequestBody.ReadJsonAsync<ClassifyJsonRequest>(request, json.SerializerOptions, cancellationToken);
            if (string.IsNullOrEmpty(single.Image))
                throw new BadRequestException("'image' (the image file, base64-encoded or a data: URI) is required.");
            given = [single.Image];
            body = single;
        }

        CheckCount(given.Count, options);
        var images = await inputs.ReadAsync(given, i => batch ? $"images[{i}]" : "image", request.HttpContext, cancellationToken);
        return new ClassifyInput(images, new LabelChoice(body.Labels, body.LabelSet, body.Template, body.Templates ?? [], body.Model, body.TopK));
    }

    private static void CheckCount(int images, RequestLimitsOptions options)
    {
        if (images > options.MaxImagesPerRequest)
            throw new BadRequestException($"At most {options.MaxImagesPerRequest} images per request (Clip:MaxImagesPerRequest); got {images}.");
    }

    // Swagger UI sends an array field as one comma-joined value; repeated fields are taken as they are.
    private static List<string> SplitLabels(StringValues values) =>
        values.Count == 1 && values[0]!.Contains(',', StringComparison.Ordinal)
            ? [.. values[0]!.Split(',', StringSplitOptions.TrimEntries)]
            : [.. values.Select(v => v ?? "")];
}
