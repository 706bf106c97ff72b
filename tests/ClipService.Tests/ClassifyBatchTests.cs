using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ClipService.Inference;
using ClipService.Models;
using Microsoft.Extensions.DependencyInjection;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

public sealed class ClassifyBatchTests(DefaultService service) : IClassFixture<DefaultService>
{
    private static readonly string[] SomeLabels = ["red circle", "blue star", "green square", "yellow triangle", "black cross", "white ring"];

    private static readonly byte[][] Images =
    [
        TestImages.Shape("red", "circle", seed: 31),
        TestImages.Shape("blue", "star", seed: 32),
        TestImages.Shape("green", "square", seed: 33),
    ];

    internal static async Task<JsonElement> Ok(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    internal static List<(string Label, double Score, double Similarity)> Ranking(JsonElement labels) =>
        [.. labels.EnumerateArray().Select(l => (l.GetProperty("label").GetString()!, l.GetProperty("score").GetDouble(), l.GetProperty("similarity").GetDouble()))];

    internal static void AssertSameRanking(JsonElement expected, JsonElement actual)
    {
        var a = Ranking(expected);
        var b = Ranking(actual);
        Assert.Equal(a.Select(x => x.Label), b.Select(x => x.Label));
        for (var i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Score, b[i].Score, 5);
            Assert.Equal(a[i].Similarity, b[i].Similarity, 5);
        }
    }

    private static MultipartFormDataContent BatchForm(IEnumerable<byte[]> images, params (string Name, string Value)[] fields)
    {
        var form = Form(null, fields);
        foreach (var image in images)
            form.Add(new ByteArrayContent(image), "images", "image.png");
        return form;
    }

    private async Task<JsonElement> ClassifyOneAsync(byte[] image, params (string Name, string Value)[] fields)
    {
        using var form = Form(image, fields);
        return await Ok(await service.Client.PostAsync("/classify", form));
    }

    [Fact]
    public async Task Batch_of_uploads_answers_in_input_order_each_equal_to_classify()
    {
        var fields = SomeLabels.Select(l => ("labels", l)).ToArray();
        using var form = BatchForm(Images, fields);
        var batch = await Ok(await service.Client.PostAsync("/classify/batch", form));

        Assert.Equal("clip-shapes", batch.GetProperty("model").GetString());
        Assert.Equal(["a photo of a {}."], batch.GetProperty("templates").EnumerateArray().Select(t => t.GetString()));
        var results = batch.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(Images.Length, results.Count);
        for (var i = 0; i < Images.Length; i++)
            AssertSameRanking((await ClassifyOneAsync(Images[i], fields)).GetProperty("labels"), results[i].GetProperty("labels"));
        Assert.Equal(["red circle", "blue star", "green square"], results.Select(r => r.GetProperty("labels")[0].GetProperty("label").GetString()));
    }

    [Fact]
    public async Task Batch_as_json_takes_base64_and_data_uris_with_the_same_options()
    {
        var images = new[] { Convert.ToBase64String(Images[2]), "data:image/png;base64," + Convert.ToBase64String(Images[0]) };
        var batch = await Ok(await service.Client.PostAsJsonAsync("/classify/batch",
            new { images, labels = SomeLabels, templates = new[] { "imagenet7" }, top_k = 2 }));

        Assert.Equal(7, batch.GetProperty("templates").GetArrayLength());
        var results = batch.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(2, results.Count);
        var single = await Ok(await service.Client.PostAsJsonAsync("/classify",
            new { image = images[1], labels = SomeLabels, templates = new[] { "imagenet7" }, top_k = 2 }));
        AssertSameRanking(single.GetProperty("labels"), results[1].GetProperty("labels"));
        Assert.All(results, r => Assert.Equal(2, r.GetProperty("labels").GetArrayLength()));
        Assert.Equal("green square", results[0].GetProperty("labels")[0].GetProperty("label").GetString());
    }

    [Fact]
    public async Task Classify_with_two_image_parts_is_refused_and_points_to_the_batch_endpoint()
    {
        using var form = Form(Images[0], ("labels", "red circle"));
        form.Add(new ByteArrayContent(Images[1]), "image", "second.png");
        var detail = await AssertProblemAsync(await service.Client.PostAsync("/classify", form), HttpStatusCode.BadRequest);
        Assert.Contains("/classify/batch", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_image_in_a_batch_is_named_by_its_index()
    {
        using var form = BatchForm([Images[0], Encoding.UTF8.GetBytes("not an image")], ("labels", "red circle"));
        var detail = await AssertProblemAsync(await service.Client.PostAsync("/classify/batch", form), HttpStatusCode.UnsupportedMediaType);
        Assert.StartsWith("images[1]", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_without_images_or_labels_is_a_400()
    {
        using var noImages = Form(null, ("labels", "red circle"));
        Assert.Contains("'images'", await AssertProblemAsync(await service.Client.PostAsync("/classify/batch", noImages), HttpStatusCode.BadRequest), StringComparison.Ordinal);
        await AssertProblemAsync(await service.Client.PostAsJsonAsync("/classify/batch", new { images = Array.Empty<string>(), labels = SomeLabels }), HttpStatusCode.BadRequest);
        using var noLabels = BatchForm([Images[0]]);
        Assert.Contains("labels", await AssertProblemAsync(await service.Client.PostAsync("/classify/batch", noLabels), HttpStatusCode.BadRequest), StringComparison.Ordinal);
    }

    [Fact]
    public async Task More_images_than_the_limit_is_a_400_naming_the_setting()
    {
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?> { ["Clip:MaxImagesPerRequest"] = "2" });
        using var client = await factory.ReadyClientAsync();
        using var form = BatchForm(Images, ("labels", "red circle"));
        var detail = await AssertProblemAsync(await client.PostAsync("/classify/batch", form), HttpStatusCode.BadRequest);
        Assert.Contains("Clip:MaxImagesPerRequest", detail, StringComparison.Ordinal);
        using var two = BatchForm(Images.Take(2), ("labels", "red circle"));
        Assert.Equal(2, (await Ok(await client.PostAsync("/classify/batch", two))).GetProperty("results").GetArrayLength());
    }

    [Fact]
    public async Task A_batch_goes_through_the_image_encoder_in_one_call()
    {
        await using var factory = new ClipServiceFactory();
        using var client = await factory.ReadyClientAsync();
        var model = factory.Services.GetRequiredService<ModelRegistry>().Get(null);
        var batcher = factory.Services.GetRequiredService<ImageBatchers>().For(model);
        var images = Enumerable.Range(0, 6).Select(i => TestImages.Shape("red", "ring", seed: 40 + i)).ToList();

        var callsBefore = model.Image.Calls;
        var held = await HeldGate.HoldAsync(factory.Services.GetRequiredService<InferenceGate>());
        using var form = BatchForm(images, ("labels", "red ring"), ("labels", "blue star"));
        var response = client.PostAsync("/classify/batch", form);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (batcher.Queued < images.Count && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        Assert.Equal(images.Count, batcher.Queued);
        await held.DisposeAsync();

        Assert.Equal(images.Count, (await Ok(await response)).GetProperty("results").GetArrayLength());
        Assert.Equal(1, model.Image.Calls - callsBefore);
    }
}
