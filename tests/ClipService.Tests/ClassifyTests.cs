using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

public sealed class ClassifyTests(DefaultService service) : IClassFixture<DefaultService>
{
    private static readonly string[] SomeLabels = ["red circle", "blue star", "green square", "yellow triangle", "black cross", "white ring"];

    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task Classify_ranks_red_circle_first_for_a_generated_red_circle()
    {
        using var form = Form(TestImages.Shape("red", "circle"), [.. SomeLabels.Select(l => ("labels", l))]);
        var json = await Json(await service.Client.PostAsync("/classify", form));

        Assert.Equal("clip-shapes", json.GetProperty("model").GetString());
        var labels = json.GetProperty("labels").EnumerateArray().ToList();
        Assert.Equal(SomeLabels.Length, labels.Count);
        Assert.Equal("red circle", labels[0].GetProperty("label").GetString());
        Assert.Equal(1.0, labels.Sum(l => l.GetProperty("score").GetDouble()), 4);
        var scores = labels.Select(l => l.GetProperty("score").GetDouble()).ToList();
        Assert.Equal(scores.OrderByDescending(s => s), scores);
        Assert.All(labels, l => Assert.InRange(l.GetProperty("similarity").GetDouble(), -1.0, 1.0));
        Assert.Equal("CPUExecutionProvider", json.GetProperty("provider").GetString());
    }

    [Fact]
    public async Task Classify_as_json_with_base64_gives_the_same_ranking_as_multipart()
    {
        var image = TestImages.Shape("blue", "star", seed: 5);
        using var form = Form(image, [.. SomeLabels.Select(l => ("labels", l))]);
        var multipart = await Json(await service.Client.PostAsync("/classify", form));
        var json = await Json(await service.Client.PostAsJsonAsync("/classify", new { image = Convert.ToBase64String(image), labels = SomeLabels }));

        static List<(string?, double)> Ranking(JsonElement e) =>
            [.. e.GetProperty("labels").EnumerateArray().Select(l => (l.GetProperty("label").GetString(), Math.Round(l.GetProperty("score").GetDouble(), 5)))];
        Assert.Equal(Ranking(multipart), Ranking(json));
        Assert.Equal("blue star", Ranking(json)[0].Item1);
    }

    [Fact]
    public async Task One_comma_separated_labels_field_is_split_as_swagger_ui_sends_it()
    {
        using var form = Form(TestImages.Shape("green", "square", seed: 3), ("labels", "red circle, green square ,blue star"));
        var json = await Json(await service.Client.PostAsync("/classify", form));
        var labels = json.GetProperty("labels").EnumerateArray().Select(l => l.GetProperty("label").GetString()).ToList();
        Assert.Equal(3, labels.Count);
        Assert.Equal("green square", labels[0]);
    }

    [Fact]
    public async Task Top_k_cuts_the_list_but_scores_stay_a_softmax_over_all_labels()
    {
        var image = TestImages.Shape("yellow", "triangle", seed: 9);
        using var all = Form(image, [.. SomeLabels.Select(l => ("labels", l))]);
        var full = await Json(await service.Client.PostAsync("/classify", all));
        using var cut = Form(image, [.. SomeLabels.Select(l => ("labels", l)), ("top_k", "2")]);
        var top = await Json(await service.Client.PostAsync("/classify", cut));

        var topLabels = top.GetProperty("labels").EnumerateArray().ToList();
        Assert.Equal(2, topLabels.Count);
        var fullFirst = full.GetProperty("labels")[0];
        Assert.Equal(fullFirst.GetProperty("label").GetString(), topLabels[0].GetProperty("label").GetString());
        Assert.Equal(fullFirst.GetProperty("score").GetDouble(), topLabels[0].GetProperty("score").GetDouble(), 5);
    }

    [Fact]
    public async Task A_custom_template_and_an_ensemble_are_used_and_reported()
    {
        var image = TestImages.Shape("red", "circle", seed: 11);
        var custom = await Json(await service.Client.PostAsJsonAsync("/classify",
            new { image = Convert.ToBase64String(image), labels = SomeLabels, template = "a {} shape" }));
        Assert.Equal(["a {} shape"], custom.GetProperty("templates").EnumerateArray().Select(t => t.GetString()));

        var ensemble = await Json(await service.Client.PostAsJsonAsync("/classify",
            new { image = Convert.ToBase64String(image), labels = SomeLabels, templates = new[] { "a photo of a {}.", "a {}" } }));
        Assert.Equal(2, ensemble.GetProperty("templates").GetArrayLength());
        Assert.Equal("red circle", ensemble.GetProperty("labels")[0].GetProperty("label").GetString());

        var named = await Json(await service.Client.PostAsJsonAsync("/classify",
            new { image = Convert.ToBase64String(image), labels = SomeLabels, templates = new[] { "imagenet7" } }));
        Assert.Equal(7, named.GetProperty("templates").GetArrayLength());
    }

    [Fact]
    public async Task Models_lists_the_default_model_with_its_shapes()
    {
        var models = await service.Client.GetFromJsonAsync<JsonElement>("/models");
        var model = Assert.Single(models.EnumerateArray());
        Assert.Equal("clip-shapes", model.GetProperty("name").GetString());
        Assert.True(model.GetProperty("default").GetBoolean());
        Assert.Equal(64, model.GetProperty("embedding_size").GetInt32());
        Assert.Equal(77, model.GetProperty("context_length").GetInt32());
        Assert.True(model.GetProperty("image_size").GetInt32() > 0);
        Assert.Equal("CPUExecutionProvider", model.GetProperty("provider").GetString());
    }

    [Fact]
    public async Task Embed_text_returns_unit_vectors_in_order_and_embed_image_agrees_with_classify()
    {
        var texts = await Json(await service.Client.PostAsJsonAsync("/embed/text", new { texts = new[] { "a photo of a red circle.", "a photo of a blue star." } }));
        var rows = texts.GetProperty("embeddings").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToList();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal(1.0, Math.Sqrt(r.Sum(v => v * v)), 4));

        using var form = Form(TestImages.Shape("red", "circle", seed: 21));
        var image = await Json(await service.Client.PostAsync("/embed/image", form));
        var embedding = image.GetProperty("embeddings")[0].EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(rows[0].Length, embedding.Length);
        Assert.Equal(1.0, Math.Sqrt(embedding.Sum(v => v * v)), 4);
        var red = embedding.Zip(rows[0], (a, b) => a * b).Sum();
        var blue = embedding.Zip(rows[1], (a, b) => a * b).Sum();
        Assert.True(red > blue, $"cos(red circle image, red circle text) {red} <= cos(..., blue star text) {blue}");
    }

    [Fact]
    public async Task Liveness_is_always_200()
    {
        using var response = await service.Client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
