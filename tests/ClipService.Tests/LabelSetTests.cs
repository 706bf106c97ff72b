using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ClipService.Core.Models;
using ClipService.Core.Scoring;
using ClipService.Inference;
using ClipService.LabelSets;
using ClipService.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using static ClipService.Tests.ClassifyBatchTests;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

public sealed class LabelSetTests(DefaultService service) : IClassFixture<DefaultService>
{
    private static readonly string SharedPrompts = Path.Combine(ClipServiceFactory.RepositoryRoot, "src", "ClipService", "LabelSets", "BuiltIn");

    private static async Task<Dictionary<string, JsonElement>> ListAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/label-sets")).EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.Clone());

    [Fact]
    public async Task The_built_in_sets_are_listed_with_imagenet_at_1000_classes_and_80_templates()
    {
        var sets = await ListAsync(service.Client);
        foreach (var name in new[] { "imagenet", "cifar10", "cifar100", "food101", "oxford-pets", "flowers102", "stanford-cars", "dtd", "eurosat" })
            Assert.True(sets.ContainsKey(name), $"{name} is missing");
        var imagenet = sets["imagenet"];
        Assert.Equal(1000, imagenet.GetProperty("label_count").GetInt32());
        Assert.Equal(PromptTemplates.ImageNet80, imagenet.GetProperty("templates").EnumerateArray().Select(t => t.GetString()!));
        Assert.Equal("built-in", imagenet.GetProperty("source").GetString());
        Assert.False(string.IsNullOrWhiteSpace(imagenet.GetProperty("description").GetString()));
        Assert.True(File.Exists(Path.Combine(SharedPrompts, "LICENSE-openai-CLIP")));
    }

    [Fact]
    public async Task Classify_with_a_label_set_equals_classify_with_its_labels_and_templates_given_explicitly()
    {
        using var file = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(SharedPrompts, "cifar10.json")));
        var labels = file.RootElement.GetProperty("labels").EnumerateArray().Select(l => l.GetString()!).ToArray();
        var templates = file.RootElement.GetProperty("templates").EnumerateArray().Select(t => t.GetString()!).ToArray();
        var image = Convert.ToBase64String(TestImages.Shape("red", "circle", seed: 50));

        var named = await Ok(await service.Client.PostAsJsonAsync("/classify", new { image, label_set = "cifar10" }));
        var explicitly = await Ok(await service.Client.PostAsJsonAsync("/classify", new { image, labels, templates }));

        Assert.Equal("cifar10", named.GetProperty("label_set").GetString());
        Assert.Equal(templates, named.GetProperty("templates").EnumerateArray().Select(t => t.GetString()!));
        Assert.Equal(10, named.GetProperty("labels").GetArrayLength());
        AssertSameRanking(explicitly.GetProperty("labels"), named.GetProperty("labels"));
    }

    [Fact]
    public async Task A_label_set_is_embedded_once_per_model_then_costs_no_text_encoder_call()
    {
        await using var factory = new ClipServiceFactory();
        using var client = await factory.ReadyClientAsync();
        var model = factory.Services.GetRequiredService<ModelRegistry>().Get(null);
        using var first = Form(TestImages.Shape("blue", "star", seed: 51), ("label_set", "eurosat"));
        await Ok(await client.PostAsync("/classify", first));
        var calls = model.Text.Calls;

        using var batch = Form(null, ("label_set", "eurosat"), ("top_k", "3"));
        batch.Add(new ByteArrayContent(TestImages.Shape("red", "ring", seed: 52)), "images", "a.png");
        batch.Add(new ByteArrayContent(TestImages.Shape("green", "star", seed: 53)), "images", "b.png");
        var results = await Ok(await client.PostAsync("/classify/batch", batch));

        Assert.Equal(calls, model.Text.Calls);
        Assert.All(results.GetProperty("results").EnumerateArray(), r => Assert.Equal(3, r.GetProperty("labels").GetArrayLength()));
        Assert.True(factory.Services.GetRequiredService<LabelSetEmbeddings>().IsComputed(model, Catalog(factory, "eurosat")));
    }

    [Fact]
    public async Task The_default_model_embeds_every_set_after_start_when_precomputing_is_on()
    {
        using var folder = new TempFolder();
        folder.Write("tiny.json", """{"labels": ["red circle", "blue star"], "templates": ["a {} shape"]}""");
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?>
        {
            ["Clip:PrecomputeLabelSets"] = "true",
            ["Clip:LabelSetsPath"] = folder.Path,
        });
        using var client = await factory.ReadyClientAsync();
        var model = factory.Services.GetRequiredService<ModelRegistry>().Get(null);
        var embeddings = factory.Services.GetRequiredService<LabelSetEmbeddings>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        // Smallest sets first: the two-label set is among the first embedded, with no request asking for it.
        while (!embeddings.IsComputed(model, Catalog(factory, "tiny")) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.True(embeddings.IsComputed(model, Catalog(factory, "tiny")));
    }

    [Fact]
    public async Task Sets_from_the_folder_are_served_and_reread_when_a_file_changes()
    {
        using var folder = new TempFolder();
        folder.Write("shapes.json", """{"labels": ["red circle", "blue star"], "description": "two shapes"}""");
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?> { ["Clip:LabelSetsPath"] = folder.Path });
        using var client = await factory.ReadyClientAsync();

        var shapes = (await ListAsync(client))["shapes"];
        Assert.Equal(2, shapes.GetProperty("label_count").GetInt32());
        Assert.Equal("two shapes", shapes.GetProperty("description").GetString());
        // The file's name, never where the server keeps it.
        Assert.Equal("shapes.json", shapes.GetProperty("source").GetString());
        Assert.DoesNotContain(folder.Path, await client.GetStringAsync("/label-sets"), StringComparison.Ordinal);
        // A set without templates lists none: each model puts its labels into its family's default template.
        Assert.Empty(shapes.GetProperty("templates").EnumerateArray());
        var image = Convert.ToBase64String(TestImages.Shape("blue", "star", seed: 54));
        var before = await Ok(await client.PostAsJsonAsync("/classify", new { image, label_set = "shapes" }));
        Assert.Equal("blue star", before.GetProperty("labels")[0].GetProperty("label").GetString());

        folder.Write("shapes.json", """{"labels": ["red circle", "blue star", "green square"], "templates": ["a {} shape", "a photo of a {}."]}""");
        folder.Write("colours.json", """{"labels": ["red", "blue"]}""");
        await WaitUntilAsync(async () => (await ListAsync(client)).TryGetValue("colours", out _)
            && (await ListAsync(client))["shapes"].GetProperty("label_count").GetInt32() == 3);

        var after = await Ok(await client.PostAsJsonAsync("/classify", new { image, label_set = "shapes" }));
        Assert.Equal(3, after.GetProperty("labels").GetArrayLength());
        Assert.Equal(2, after.GetProperty("templates").GetArrayLength());

        // A half-written file does not take the set away: its last good version stays.
        folder.Write("shapes.json", """{"labels": ["red""");
        await Task.Delay(1500);
        Assert.Equal(3, (await ListAsync(client))["shapes"].GetProperty("label_count").GetInt32());
    }

    /// <summary>The real inference, with label-set computations held until the test lets them go.</summary>
    private sealed class HeldLabelSets(ClipInference inner, Task release) : DelegatingClipInference(inner)
    {
        public override async Task<TextEmbeddings> ComputeLabelsAsync(ClipModel model, IReadOnlyList<string> labels, IReadOnlyList<string> templates, EncoderPriority priority,
            IProgress<int>? progress, CancellationToken cancellationToken)
        {
            await release.WaitAsync(cancellationToken);
            return await base.ComputeLabelsAsync(model, labels, templates, priority, progress, cancellationToken);
        }
    }

    [Fact]
    public async Task A_request_waits_for_a_set_being_embedded_at_most_the_request_timeout_then_gets_503()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?> { ["Clip:Inference:RequestTimeoutSeconds"] = "1" }, services =>
        {
            services.RemoveAll<IClipInference>();
            services.AddSingleton<IClipInference>(sp => new HeldLabelSets(sp.GetRequiredService<ClipInference>(), release.Task));
        });
        using var client = await factory.ReadyClientAsync();
        var image = Convert.ToBase64String(TestImages.Shape("red", "circle", seed: 56));

        using var waiting = await client.PostAsJsonAsync("/classify", new { image, label_set = "eurosat" });
        Assert.Contains("still being embedded", await AssertProblemAsync(waiting, HttpStatusCode.ServiceUnavailable), StringComparison.Ordinal);
        Assert.NotNull(waiting.Headers.RetryAfter);

        release.SetResult();
        Assert.Equal(10, (await Ok(await client.PostAsJsonAsync("/classify", new { image, label_set = "eurosat" }))).GetProperty("labels").GetArrayLength());
    }

    [Fact]
    public async Task Request_templates_replace_the_sets_own()
    {
        var image = Convert.ToBase64String(TestImages.Shape("red", "circle", seed: 55));
        var json = await Ok(await service.Client.PostAsJsonAsync("/classify", new { image, label_set = "eurosat", template = "a {} seen from above" }));
        Assert.Equal(["a {} seen from above"], json.GetProperty("templates").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(10, json.GetProperty("labels").GetArrayLength());
    }

    [Fact]
    public async Task Unknown_sets_and_labels_with_a_set_are_400s()
    {
        var image = Convert.ToBase64String(TestImages.Shape("red", "circle"));
        var unknown = await AssertProblemAsync(await service.Client.PostAsJsonAsync("/classify", new { image, label_set = "nope" }), HttpStatusCode.BadRequest);
        Assert.Contains("imagenet", unknown, StringComparison.Ordinal);
        await AssertProblemAsync(await service.Client.PostAsJsonAsync("/classify", new { image, label_set = "cifar10", labels = new[] { "cat" } }), HttpStatusCode.BadRequest);
    }

    [Fact]
    public void Invalid_files_or_a_built_in_name_fail_validation_at_start_naming_the_file()
    {
        using var folder = new TempFolder();
        folder.Write("good.json", """{"labels": ["a", "b"]}""");
        var validator = new LabelSetFolderValidator();
        Assert.True(validator.Validate(null, new LabelSetOptions { LabelSetsPath = folder.Path }).Succeeded);

        folder.Write("broken.json", """{"labels": []}""");
        folder.Write("imagenet.json", """{"labels": ["a"]}""");
        folder.Write("notemplate.json", """{"labels": ["a"], "templates": ["no placeholder"]}""");
        var result = validator.Validate(null, new LabelSetOptions { LabelSetsPath = folder.Path });
        Assert.True(result.Failed);
        Assert.Contains("broken.json", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("built-in", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("no placeholder", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("good.json", result.FailureMessage, StringComparison.Ordinal);
    }

    private static LabelSet Catalog(ClipServiceFactory factory, string name) =>
        factory.Services.GetRequiredService<LabelSetCatalog>().TryGet(name, out var set) ? set : throw new InvalidOperationException($"no set {name}");

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the change was not picked up within 20 s");
            await Task.Delay(100);
        }
    }
}

/// <summary>A folder under the temp directory, deleted afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("clipservice-test-").FullName;

    public void Write(string name, string content) => File.WriteAllText(System.IO.Path.Combine(Path, name), content);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
