using System.Net;
using System.Net.Http.Json;
using System.Numerics.Tensors;
using System.Text.Json;
using Xunit.Abstractions;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

/// <summary>One service on every random-weight family export (tests/assets/families, tools/make_family_models.py).</summary>
public sealed class FamiliesService : IAsyncLifetime
{
    public static string Folder => Path.Combine(ClipServiceFactory.RepositoryRoot, "tests", "assets", "families");

    public ClipServiceFactory Factory { get; } = new(new Dictionary<string, string?>
    {
        ["Clip:ModelsPath"] = Folder,
        ["Clip:DefaultModel"] = "siglip",
    });

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync() => Client = await Factory.ReadyClientAsync();

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
    }
}

/// <summary>
/// Each family served end to end: the scores transformers.js's zero-shot pipeline gives on the combined graph
/// (tools/oracle/zero_shot.mjs, images at the model's size) from the service on the split graphs.
/// </summary>
public sealed class ModelFamilyTests(FamiliesService service, ITestOutputHelper output) : IClassFixture<FamiliesService>
{
    private const double ScoreTolerance = 1e-4;

    private sealed record Reference(string Template, string[] Labels, string[] Images, string Scoring, double[][] Scores, string[] Prompts, float[][] TextEmbeds);

    private static Reference Read(string model)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(FamiliesService.Folder, model, "reference.json")));
        var root = doc.RootElement;
        static string[] Strings(JsonElement e) => [.. e.EnumerateArray().Select(v => v.GetString()!)];
        return new Reference(
            root.TryGetProperty("template", out var t) ? t.GetString()! : "",
            root.TryGetProperty("labels", out var l) ? Strings(l) : [],
            root.TryGetProperty("images", out var i) ? Strings(i) : [],
            root.TryGetProperty("scoring", out var s) ? s.GetString()! : "",
            root.TryGetProperty("scores", out var sc) ? [.. sc.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray())] : [],
            Strings(root.GetProperty("prompts")),
            [.. root.GetProperty("text_embeds").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray())]);
    }

    private static byte[] Image(string relative) => File.ReadAllBytes(Path.Combine(FamiliesService.Folder, relative));

    private static async Task<JsonElement> Ok(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static Dictionary<string, double> Scores(JsonElement labels) =>
        labels.EnumerateArray().ToDictionary(l => l.GetProperty("label").GetString()!, l => l.GetProperty("score").GetDouble());

    public static TheoryData<string> ZeroShotModels => ["siglip", "siglip2", "chinese-clip"];

    [Theory]
    [MemberData(nameof(ZeroShotModels))]
    public async Task Scores_equal_transformers_js_zero_shot_pipeline(string model)
    {
        var reference = Read(model);
        var largest = 0.0;
        for (var i = 0; i < reference.Images.Length; i++)
        {
            using var form = Form(Image(reference.Images[i]),
                [("model", model), ("template", reference.Template), .. reference.Labels.Select(l => ("labels", l))]);
            var json = await Ok(await service.Client.PostAsync("/classify", form));
            Assert.Equal(reference.Scoring, json.GetProperty("scoring").GetString());
            var scores = Scores(json.GetProperty("labels"));
            for (var j = 0; j < reference.Labels.Length; j++)
            {
                var expected = reference.Scores[i][j];
                var actual = scores[reference.Labels[j]];
                largest = Math.Max(largest, Math.Abs(expected - actual));
                Assert.True(Math.Abs(expected - actual) <= ScoreTolerance,
                    $"{model}, {reference.Images[i]}, '{reference.Labels[j]}': transformers.js {expected:F6}, ClipService {actual:F6}");
            }
        }

        output.WriteLine($"{model}: largest |Δscore| against transformers.js {largest:E2}");
    }

    [Theory]
    [InlineData("siglip", "siglip", "sigmoid")]
    [InlineData("siglip2", "siglip2", "sigmoid")]
    [InlineData("chinese-clip", "chinese_clip", "softmax")]
    [InlineData("immich-xlmr", "xlm_roberta_clip", "softmax")]
    [InlineData("immich-siglip2", "siglip2", "rank")]
    public async Task Models_says_each_family_and_its_score_function(string model, string family, string scoring)
    {
        var models = await Ok(await service.Client.GetAsync("/models"));
        var info = models.EnumerateArray().Single(m => m.GetProperty("name").GetString() == model);
        Assert.Equal(family, info.GetProperty("family").GetString());
        Assert.Equal(scoring, info.GetProperty("scoring").GetString());
        bool Has(string field) => info.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.Number;
        Assert.Equal(scoring == "sigmoid", Has("logit_bias"));
        Assert.Equal(scoring != "rank", Has("logit_scale"));
    }

    [Fact]
    public async Task Sigmoid_scores_are_independent_per_label_in_single_batch_and_top_k_answers()
    {
        var reference = Read("siglip");
        var image = Image(reference.Images[1]);
        using var full = Form(image, [("model", "siglip"), .. reference.Labels.Select(l => ("labels", l))]);
        var all = Scores((await Ok(await service.Client.PostAsync("/classify", full))).GetProperty("labels"));
        Assert.NotEqual(1.0, all.Values.Sum(), 3);

        // The same label scores the same whatever else is asked: no normalisation across labels.
        using var two = Form(image, [("model", "siglip"), ("labels", reference.Labels[0]), ("labels", reference.Labels[3])]);
        var pair = Scores((await Ok(await service.Client.PostAsync("/classify", two))).GetProperty("labels"));
        Assert.Equal(all[reference.Labels[0]], pair[reference.Labels[0]], 6);
        Assert.Equal(all[reference.Labels[3]], pair[reference.Labels[3]], 6);

        using var topK = Form(image, [("model", "siglip"), ("top_k", "2"), .. reference.Labels.Select(l => ("labels", l))]);
        var best = (await Ok(await service.Client.PostAsync("/classify", topK))).GetProperty("labels").EnumerateArray()
            .Select(l => l.GetProperty("label").GetString()).ToList();
        Assert.Equal(all.OrderByDescending(kv => kv.Value).Take(2).Select(kv => kv.Key), best);

        var batch = await Ok(await service.Client.PostAsJsonAsync("/classify/batch", new
        {
            model = "siglip",
            labels = reference.Labels,
            images = reference.Images.Select(i => Convert.ToBase64String(Image(i))).ToArray(),
        }));
        Assert.Equal("sigmoid", batch.GetProperty("scoring").GetString());
        var second = Scores(batch.GetProperty("results")[1].GetProperty("labels"));
        Assert.All(reference.Labels, l => Assert.Equal(all[l], second[l], 6));
    }

    [Theory]
    [InlineData("siglip", "This is a photo of {}.")]
    [InlineData("chinese-clip", "一张{}的照片。")]
    [InlineData("immich-xlmr", "a photo of a {}.")]
    public async Task A_request_without_a_template_gets_the_familys_default(string model, string template)
    {
        using var form = Form(Image("images/disc.png"), ("model", model), ("labels", "猫"), ("labels", "dog"));
        var json = await Ok(await service.Client.PostAsync("/classify", form));
        Assert.Equal([template], json.GetProperty("templates").EnumerateArray().Select(t => t.GetString()));
    }

    /// <summary>immich's graphs take exactly one prompt and one image per run: concurrent requests, batched by the
    /// service, are run one by one and each gets its own answer.</summary>
    [Theory]
    [InlineData("immich-xlmr")]
    [InlineData("immich-siglip2")]
    public async Task A_batch_of_one_export_answers_concurrent_requests_exactly(string model)
    {
        var reference = Read(model);
        var texts = Enumerable.Range(0, 24).Select(i => reference.Prompts[i % reference.Prompts.Length]).ToList();
        var responses = await Task.WhenAll(texts.Select(async (text, i) =>
            await Ok(await service.Client.PostAsJsonAsync("/embed/text", new { model, texts = new[] { text } }))));
        for (var i = 0; i < texts.Count; i++)
        {
            var embedding = responses[i].GetProperty("embeddings")[0].EnumerateArray().Select(v => v.GetSingle()).ToArray();
            var cos = TensorPrimitives.CosineSimilarity(reference.TextEmbeds[i % reference.Prompts.Length], embedding);
            Assert.True(cos >= 0.99999, $"{model} '{texts[i]}': cos {cos:F7}");
        }

        string[] images = ["images/gradient.png", "images/disc.png", "images/stripes.png"];
        async Task<Dictionary<string, double>> Classify(string image)
        {
            using var form = Form(Image(image), ("model", model), ("labels", "cat"), ("labels", "dog"), ("labels", "red car"));
            return Scores((await Ok(await service.Client.PostAsync("/classify", form))).GetProperty("labels"));
        }

        var alone = new List<Dictionary<string, double>>();
        foreach (var image in images)
            alone.Add(await Classify(image));
        var together = await Task.WhenAll(Enumerable.Range(0, 18).Select(i => Classify(images[i % images.Length])));
        for (var i = 0; i < together.Length; i++)
            Assert.All(alone[i % images.Length], kv => Assert.Equal(kv.Value, together[i][kv.Key], 6));
        Assert.NotEqual(alone[0]["cat"], alone[2]["cat"], 6);
    }
}
