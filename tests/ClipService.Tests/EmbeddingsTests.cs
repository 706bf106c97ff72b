using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using static ClipService.Tests.ClassifyBatchTests;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

public sealed class EmbeddingsTests(DefaultService service) : IClassFixture<DefaultService>
{
    // 200 words: far beyond the 77-token context.
    private static readonly string LongText = "a photo of a red circle " + string.Join(' ', Enumerable.Repeat("and another shape", 66));

    internal static float[][] Rows(JsonElement response) =>
        [.. response.GetProperty("embeddings").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray())];

    [Fact]
    public async Task Embed_image_takes_json_and_answers_in_the_same_shape_as_embed_text()
    {
        var image = TestImages.Shape("red", "circle", seed: 60);
        using var form = Form(image);
        var multipart = await Ok(await service.Client.PostAsync("/embed/image", form));
        var json = await Ok(await service.Client.PostAsJsonAsync("/embed/image", new { image = Convert.ToBase64String(image) }));
        var dataUri = await Ok(await service.Client.PostAsJsonAsync("/embed/image", new { image = "data:image/png;base64," + Convert.ToBase64String(image) }));
        var text = await Ok(await service.Client.PostAsJsonAsync("/embed/text", new { texts = new[] { "a photo of a red circle." } }));

        var names = (JsonElement e) => e.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(names(text), names(multipart));
        Assert.Equal(["dimensions", "embeddings", "model", "truncated"], names(multipart));
        Assert.Equal(64, multipart.GetProperty("dimensions").GetInt32());
        Assert.Equal(Rows(multipart), Rows(json));
        Assert.Equal(Rows(multipart), Rows(dataUri));
        Assert.Single(Rows(multipart));
    }

    [Fact]
    public async Task A_text_longer_than_the_context_is_truncated_keeping_the_end_token_and_counted()
    {
        var response = await Ok(await service.Client.PostAsJsonAsync("/embed/text", new { texts = new[] { LongText, "a photo of a blue star." } }));
        Assert.Equal(1, response.GetProperty("truncated").GetInt32());
        var rows = Rows(response);
        Assert.Equal(2, rows.Length);
        Assert.Equal(1.0, Math.Sqrt(rows[0].Sum(v => (double)v * v)), 4);

        // Truncation cuts the tail: whatever follows the first 75 tokens does not change the embedding.
        var otherTail = await Ok(await service.Client.PostAsJsonAsync("/embed/text",
            new { texts = new[] { LongText + " and a completely different ending about a green square" } }));
        Assert.Equal(1, otherTail.GetProperty("truncated").GetInt32());
        Assert.Equal(rows[0], Rows(otherTail)[0]);
    }

    [Fact]
    public async Task Long_labels_classify_instead_of_being_refused_and_the_response_counts_them()
    {
        using var form = Form(TestImages.Shape("red", "circle", seed: 61), ("labels", LongText), ("labels", "blue star"), ("labels", "green square"));
        var json = await Ok(await service.Client.PostAsync("/classify", form));
        Assert.Equal(1, json.GetProperty("truncated").GetInt32());
        Assert.Equal(3, json.GetProperty("labels").GetArrayLength());
    }

    [Fact]
    public async Task Texts_over_the_character_limit_are_still_refused()
    {
        var huge = new string('a', 4097);
        var detail = await AssertProblemAsync(await service.Client.PostAsJsonAsync("/embed/text", new { texts = new[] { huge } }), HttpStatusCode.BadRequest);
        Assert.Contains("4096", detail, StringComparison.Ordinal);
        using var form = Form(TestImages.Shape("red", "circle"), ("labels", huge));
        await AssertProblemAsync(await service.Client.PostAsync("/classify", form), HttpStatusCode.BadRequest);
    }
}
