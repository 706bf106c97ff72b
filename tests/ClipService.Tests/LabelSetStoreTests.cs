using System.Net.Http.Json;
using System.Text.Json;
using ClipService.Core.Models;
using ClipService.Inference;
using ClipService.LabelSets;
using ClipService.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serilog.Events;
using static ClipService.Tests.ClassifyBatchTests;

namespace ClipService.Tests;

/// <summary>The label-set store (Clip:LabelSets:CachePath), the precompute-label-sets command and the precompute's auto rule.</summary>
public sealed class LabelSetStoreTests
{
    private static readonly string DefaultModels = Path.Combine(ClipServiceFactory.RepositoryRoot, "models");
    private static readonly string TinyClip = Path.Combine(ClipServiceFactory.TestModels, "tiny-clip");

    /// <summary>The real inference, counting label-set computations.</summary>
    private sealed class CountingComputations(ClipInference inner) : DelegatingClipInference(inner)
    {
        private int _computed;

        public int Computed => Volatile.Read(ref _computed);

        public override Task<TextEmbeddings> ComputeLabelsAsync(ClipModel model, IReadOnlyList<string> labels, IReadOnlyList<string> templates, EncoderPriority priority,
            IProgress<int>? progress, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _computed);
            return base.ComputeLabelsAsync(model, labels, templates, priority, progress, cancellationToken);
        }
    }

    /// <summary>A service on a store folder, counting computations and capturing its log.</summary>
    private sealed class StoreService : IAsyncDisposable
    {
        public CountingComputations Counting { get; private set; } = null!;
        public CapturedLog Log { get; } = new();
        public ClipServiceFactory Factory { get; }

        public StoreService(string store, Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
        {
            var all = new Dictionary<string, string?> { ["Clip:LabelSets:CachePath"] = store };
            foreach (var (key, value) in settings ?? [])
                all[key] = value;
            Factory = new ClipServiceFactory(all, s =>
            {
                Log.Register(s);
                s.RemoveAll<IClipInference>();
                s.AddSingleton<IClipInference>(sp => Counting = new CountingComputations(sp.GetRequiredService<ClipInference>()));
                services?.Invoke(s);
            });
        }

        public ClipModel Model => Factory.Services.GetRequiredService<ModelRegistry>().Get(null);

        public ValueTask DisposeAsync() => Factory.DisposeAsync();
    }

    private static async Task<string> ClassifyAsync(HttpClient client, string set, int seed)
    {
        var image = Convert.ToBase64String(TestImages.Shape("blue", "star", seed));
        var json = await Ok(await client.PostAsJsonAsync("/classify", new { image, label_set = set }));
        return json.GetProperty("labels").GetRawText();
    }

    [Fact]
    public async Task A_second_instance_on_the_same_store_computes_nothing_for_a_warm_set_and_answers_identically()
    {
        using var store = new TempFolder();
        string first;
        await using (var one = new StoreService(store.Path))
        {
            using var client = await one.Factory.ReadyClientAsync();
            first = await ClassifyAsync(client, "cifar10", seed: 60);
            Assert.Equal(1, one.Counting.Computed);
        }

        Assert.Single(Directory.GetFiles(store.Path, "cifar10.*.lse"));
        await using var two = new StoreService(store.Path);
        using var client2 = await two.Factory.ReadyClientAsync();
        var textCalls = two.Model.Text.Calls;
        var second = await ClassifyAsync(client2, "cifar10", seed: 60);

        Assert.Equal(0, two.Counting.Computed);
        Assert.Equal(textCalls, two.Model.Text.Calls);
        Assert.Equal(first, second);
        Assert.Single(two.Log.Find(LogEventLevel.Information, "Label set cifar10 for clip-shapes loaded from the store"));
    }

    public static TheoryData<string> Damages => ["truncated", "flipped", "foreign", "garbage"];

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task A_damaged_or_foreign_store_file_is_a_miss_with_one_Warning_then_replaced(string damage)
    {
        using var store = new TempFolder();
        await using (var one = new StoreService(store.Path))
        {
            using var client = await one.Factory.ReadyClientAsync();
            await ClassifyAsync(client, "eurosat", seed: 61);
            await ClassifyAsync(client, "cifar10", seed: 61);
        }

        var file = Directory.GetFiles(store.Path, "eurosat.*.lse").Single();
        var bytes = await File.ReadAllBytesAsync(file);
        switch (damage)
        {
            case "truncated": bytes = bytes[..(bytes.Length - 100)]; break;
            case "flipped": bytes[bytes.Length / 2] ^= 0x40; break;
            case "foreign": bytes = await File.ReadAllBytesAsync(Directory.GetFiles(store.Path, "cifar10.*.lse").Single()); break;
            default: bytes = "not embeddings at all"u8.ToArray(); break;
        }

        await File.WriteAllBytesAsync(file, bytes);
        await using var two = new StoreService(store.Path);
        using var client2 = await two.Factory.ReadyClientAsync();
        await ClassifyAsync(client2, "eurosat", seed: 62);

        Assert.Equal(1, two.Counting.Computed);
        var warning = Assert.Single(two.Log.Events, e => e.Level >= LogEventLevel.Warning && e.Message.Contains("store", StringComparison.Ordinal));
        Assert.Contains(Path.GetFileName(file), warning.Message, StringComparison.Ordinal);
        Assert.Equal(LogEventLevel.Warning, warning.Level);
        Assert.DoesNotContain(two.Log.Events, e => e.Level >= LogEventLevel.Error);
        // Recomputed and written back whole: a third instance loads it.
        await using var three = new StoreService(store.Path);
        using var client3 = await three.Factory.ReadyClientAsync();
        await ClassifyAsync(client3, "eurosat", seed: 62);
        Assert.Equal(0, three.Counting.Computed);
    }

    [Fact]
    public async Task A_store_that_cannot_be_written_still_serves_with_one_Warning()
    {
        using var folder = new TempFolder();
        folder.Write("file", "a file, so no folder can be made under it");
        await using var service = new StoreService(Path.Combine(folder.Path, "file", "store"));
        using var client = await service.Factory.ReadyClientAsync();
        await ClassifyAsync(client, "eurosat", seed: 63);
        await ClassifyAsync(client, "cifar10", seed: 63);

        Assert.Equal(2, service.Counting.Computed);
        Assert.Single(service.Log.Find(LogEventLevel.Warning, "cannot be written"));
    }

    [Fact]
    public void Keys_differ_for_other_labels_templates_or_model_and_agree_for_the_same_content()
    {
        using var tiny = ClipModel.Load(TinyClip);
        using var shapes = ClipModel.Load(Path.Combine(DefaultModels, "clip-shapes"));
        var tinyDigest = ModelDigest.TextSide(tiny.Folder);
        string[] labels = ["cat", "dog"];
        string[] templates = ["a photo of a {}."];
        var key = Convert.ToHexString(LabelSetStore.Key(tinyDigest, tiny, labels, templates));

        Assert.Equal(key, Convert.ToHexString(LabelSetStore.Key(ModelDigest.TextSide(tiny.Folder), tiny, ["cat", "dog"], ["a photo of a {}."])));
        var others = new[]
        {
            LabelSetStore.Key(tinyDigest, tiny, ["dog", "cat"], templates),
            LabelSetStore.Key(tinyDigest, tiny, ["cat", "dogs"], templates),
            LabelSetStore.Key(tinyDigest, tiny, ["catdog"], templates),
            LabelSetStore.Key(tinyDigest, tiny, labels, ["a picture of a {}."]),
            LabelSetStore.Key(tinyDigest, tiny, labels, ["a photo of a {}.", "a picture of a {}."]),
            LabelSetStore.Key(ModelDigest.TextSide(shapes.Folder), shapes, labels, templates),
        }.Select(Convert.ToHexString).ToList();
        Assert.DoesNotContain(key, others);
        Assert.Equal(others.Count, others.Distinct().Count());
    }

    [Theory]
    [InlineData("config.json")]
    [InlineData("vocab.json")]
    [InlineData("onnx/text_model.onnx")]
    public void The_model_digest_changes_with_its_text_graph_tokenizer_or_config_and_not_with_the_image_graph(string edited)
    {
        using var copy = new TempFolder();
        CopyFolder(TinyClip, copy.Path);
        var before = ModelDigest.TextSide(ClipModelFolder.Open(copy.Path));
        File.AppendAllText(Path.Combine(copy.Path, "onnx", "vision_model.onnx"), " ");
        Assert.Equal(before, ModelDigest.TextSide(ClipModelFolder.Open(copy.Path)));

        File.AppendAllText(Path.Combine(copy.Path, edited), " ");
        Assert.NotEqual(before, ModelDigest.TextSide(ClipModelFolder.Open(copy.Path)));
    }

    [Fact]
    public async Task The_command_fills_the_store_and_a_service_on_it_loads_the_sets_without_computing()
    {
        using var store = new TempFolder();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await PrecomputeLabelSetsCommand.RunAsync(
            ["--cache-path", store.Path, "--label-set", "eurosat", "--label-set", "cifar10", $"--Clip:ModelsPath={DefaultModels}"], output, error, CancellationToken.None);

        Assert.True(exitCode == 0, error.ToString());
        Assert.Contains("clip-shapes eurosat: 10 labels × 3 templates embedded", output.ToString(), StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(store.Path, "eurosat.*.lse"));
        Assert.Single(Directory.GetFiles(store.Path, "cifar10.*.lse"));

        await using var service = new StoreService(store.Path);
        using var client = await service.Factory.ReadyClientAsync();
        var embeddings = service.Factory.Services.GetRequiredService<LabelSetEmbeddings>();
        var catalog = service.Factory.Services.GetRequiredService<LabelSetCatalog>();
        Assert.True(catalog.TryGet("cifar10", out var cifar10));
        // The precompute (off here) still loads what the store has, before any request asks.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!embeddings.IsComputed(service.Model, cifar10) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.True(embeddings.IsComputed(service.Model, cifar10));
        await ClassifyAsync(client, "eurosat", seed: 64);
        await ClassifyAsync(client, "cifar10", seed: 64);
        Assert.Equal(0, service.Counting.Computed);

        // Run again: nothing to do.
        using var again = new StringWriter();
        Assert.Equal(0, await PrecomputeLabelSetsCommand.RunAsync(["--cache-path", store.Path, "--label-set", "eurosat", $"--Clip:ModelsPath={DefaultModels}"], again, error, CancellationToken.None));
        Assert.Contains("eurosat: already in the store", again.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--label-set", "nope" }, 2, "no label set 'nope'")]
    [InlineData(new[] { "--model", "nope" }, 2, "no model 'nope'")]
    [InlineData(new[] { "--bogus" }, 2, "unknown argument")]
    [InlineData(new[] { "--Clip:PrecomputeLabelSets=maybe" }, 2, "Clip:PrecomputeLabelSets")]
    [InlineData(new[] { "--help" }, 0, "precompute-label-sets [--model NAME]")]
    public async Task The_command_answers_usage_errors_with_exit_code_2_and_help_with_0(string[] arguments, int expected, string message)
    {
        using var store = new TempFolder();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await PrecomputeLabelSetsCommand.RunAsync([.. arguments, "--cache-path", store.Path, $"--Clip:ModelsPath={DefaultModels}"], output, error, CancellationToken.None);
        Assert.Equal(expected, exitCode);
        Assert.Contains(message, output.ToString() + error.ToString(), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(store.Path));
    }

    [Fact]
    public async Task The_command_without_a_store_is_a_usage_error()
    {
        using var error = new StringWriter();
        Assert.Equal(2, await PrecomputeLabelSetsCommand.RunAsync([$"--Clip:ModelsPath={DefaultModels}"], TextWriter.Null, error, CancellationToken.None));
        Assert.Contains("--cache-path", error.ToString(), StringComparison.Ordinal);
    }

    private sealed class FixedCost(double secondsPerPrompt) : ITextEncoderCost
    {
        public Task<double> SecondsPerPromptAsync(ClipModel model, CancellationToken cancellationToken) => Task.FromResult(secondsPerPrompt);
    }

    [Theory]
    [InlineData(1.0, false)] // ~90,000 prompts at a second each: far beyond 180 s
    [InlineData(1e-9, true)]
    public async Task The_auto_rule_turns_the_precompute_off_for_an_expensive_model_and_on_for_a_cheap_one(double secondsPerPrompt, bool on)
    {
        using var store = new TempFolder();
        using var sets = new TempFolder();
        sets.Write("tiny.json", """{"labels": ["red circle", "blue star"], "templates": ["a {} shape"]}""");
        await using var service = new StoreService(store.Path, new Dictionary<string, string?>
        {
            ["Clip:PrecomputeLabelSets"] = "auto",
            ["Clip:LabelSetsPath"] = sets.Path,
        }, s => s.AddSingleton<ITextEncoderCost>(new FixedCost(secondsPerPrompt)));
        using var client = await service.Factory.ReadyClientAsync();
        var decision = Assert.Single(await service.Log.WaitForAsync(LogEventLevel.Information, "Label-set precompute"));
        Assert.Contains("Clip:PrecomputeLabelSets=auto", decision, StringComparison.Ordinal);
        var embeddings = service.Factory.Services.GetRequiredService<LabelSetEmbeddings>();
        var progress = service.Factory.Services.GetRequiredService<PrecomputeProgress>();
        Assert.True(service.Factory.Services.GetRequiredService<LabelSetCatalog>().TryGet("tiny", out var tiny));
        if (on)
        {
            Assert.Contains("≤ 180 s", decision, StringComparison.Ordinal);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!embeddings.IsComputed(service.Model, tiny) && DateTime.UtcNow < deadline)
                await Task.Delay(50);
            Assert.True(embeddings.IsComputed(service.Model, tiny));
            var (done, total) = progress.For("clip-shapes")!.Value;
            Assert.InRange(done, 2, total);
            Assert.Equal(service.Factory.Services.GetRequiredService<LabelSetCatalog>().All.Where(s => service.Model.Reads(s.Language)).Sum(s => (long)s.Labels.Count * (s.Templates?.Count ?? 1)), total);
            var metrics = await client.GetStringAsync("/metrics");
            Assert.Contains("clip_label_set_precompute_prompts{", metrics, StringComparison.Ordinal);
            Assert.Contains($"state=\"total\"", metrics, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("precompute off for clip-shapes", decision, StringComparison.Ordinal);
            Assert.Contains("> 180 s", decision, StringComparison.Ordinal);
            await Task.Delay(1000);
            Assert.False(embeddings.IsComputed(service.Model, tiny));
            Assert.Null(progress.For("clip-shapes"));
            Assert.Equal(0, service.Counting.Computed);
        }
    }

    [Fact]
    public async Task A_warm_store_leaves_nothing_to_precompute_and_measures_nothing()
    {
        using var store = new TempFolder();
        using var output = new StringWriter();
        Assert.Equal(0, await PrecomputeLabelSetsCommand.RunAsync(["--cache-path", store.Path, $"--Clip:ModelsPath={TinyClip}"], output, TextWriter.Null, CancellationToken.None));
        var measured = 0;
        await using var service = new StoreService(store.Path, new Dictionary<string, string?>
        {
            ["Clip:ModelsPath"] = TinyClip,
            ["Clip:PrecomputeLabelSets"] = "auto",
        }, s => s.AddSingleton<ITextEncoderCost>(new CountedCost(() => Interlocked.Increment(ref measured))));
        using var client = await service.Factory.ReadyClientAsync();
        Assert.Single(await service.Log.WaitForAsync(LogEventLevel.Information, "nothing to precompute"));
        Assert.Equal(0, service.Counting.Computed);
        Assert.Equal(0, measured);
    }

    private sealed class CountedCost(Action measured) : ITextEncoderCost
    {
        public Task<double> SecondsPerPromptAsync(ClipModel model, CancellationToken cancellationToken)
        {
            measured();
            return Task.FromResult(1.0);
        }
    }

    [Fact]
    public async Task The_measured_cost_of_a_prompt_is_positive_and_comes_from_a_one_thread_encoder()
    {
        await using var factory = new ClipServiceFactory();
        using var client = await factory.ReadyClientAsync();
        var model = factory.Services.GetRequiredService<ModelRegistry>().Get(null);
        var cost = factory.Services.GetRequiredService<ITextEncoderCost>();
        var calls = model.Text.Calls;
        var seconds = await cost.SecondsPerPromptAsync(model, CancellationToken.None);
        Assert.InRange(seconds, 1e-7, 1.0);
        // Measured on the background encoder, not the request path's.
        Assert.Equal(calls, model.Text.Calls);
        // One untimed run that pays the session's first-run cost, then the timed one.
        Assert.Equal(2, factory.Services.GetRequiredService<BackgroundTextEncoders>().For(model).Calls);
    }

    [Fact]
    public async Task The_precompute_skips_sets_in_a_language_the_model_was_not_trained_on_and_a_request_still_gets_them()
    {
        using var folder = new TempFolder();
        folder.Write("shapes-en.json", """{"labels": ["red circle", "blue star"], "language": "en"}""");
        folder.Write("shapes-zh.json", """{"labels": ["红色圆形", "蓝色星形"], "language": "zh"}""");
        await using var service = new StoreService("", new Dictionary<string, string?>
        {
            ["Clip:PrecomputeLabelSets"] = "true",
            ["Clip:LabelSetsPath"] = folder.Path,
        });
        using var client = await service.Factory.ReadyClientAsync();
        var embeddings = service.Factory.Services.GetRequiredService<LabelSetEmbeddings>();
        var catalog = service.Factory.Services.GetRequiredService<LabelSetCatalog>();
        LabelSet Set(string name) => catalog.TryGet(name, out var set) ? set : throw new InvalidOperationException(name);

        var skipped = Assert.Single(await service.Log.WaitForAsync(LogEventLevel.Information, "not precomputed"));
        Assert.Contains("imagenet-zh (zh)", skipped, StringComparison.Ordinal);
        Assert.Contains("shapes-zh (zh)", skipped, StringComparison.Ordinal);
        Assert.DoesNotContain("shapes-en", skipped, StringComparison.Ordinal);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!embeddings.IsComputed(service.Model, Set("shapes-en")) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.True(embeddings.IsComputed(service.Model, Set("shapes-en")));
        Assert.False(embeddings.IsComputed(service.Model, Set("shapes-zh")));

        var listed = await client.GetFromJsonAsync<JsonElement>("/label-sets");
        Assert.Equal("zh", listed.EnumerateArray().Single(s => s.GetProperty("name").GetString() == "imagenet-zh").GetProperty("language").GetString());
        Assert.Equal("en", listed.EnumerateArray().Single(s => s.GetProperty("name").GetString() == "imagenet").GetProperty("language").GetString());
        // Skipped ahead of time, served on demand.
        await ClassifyAsync(client, "shapes-zh", seed: 71);
        Assert.True(embeddings.IsComputed(service.Model, Set("shapes-zh")));
    }

    [Theory]
    [InlineData("\"english\"")]
    [InlineData("\"EN\"")]
    [InlineData("7")]
    public void A_label_set_language_that_is_not_a_language_code_is_refused(string language)
    {
        var problem = Assert.ThrowsAny<Exception>(() => LabelSetFiles.Parse("x", $$"""{"labels": ["a"], "language": {{language}}}""", "x.json", 10));
        Assert.Contains("x.json", problem.Message, StringComparison.Ordinal);
        Assert.Equal("en", LabelSetFiles.Parse("x", """{"labels": ["a"], "language": "en"}""", "x.json", 10).Language);
        Assert.Null(LabelSetFiles.Parse("x", """{"labels": ["a"]}""", "x.json", 10).Language);
    }

    [Fact]
    public async Task The_command_skips_foreign_sets_by_default_and_embeds_a_named_one()
    {
        using var store = new TempFolder();
        using var folder = new TempFolder();
        folder.Write("shapes-zh.json", """{"labels": ["红色圆形", "蓝色星形"], "language": "zh"}""");
        using var output = new StringWriter();
        Assert.Equal(0, await PrecomputeLabelSetsCommand.RunAsync(["--cache-path", store.Path, $"--Clip:ModelsPath={TinyClip}", $"--Clip:LabelSetsPath={folder.Path}"],
            output, TextWriter.Null, CancellationToken.None));
        Assert.Contains("shapes-zh: skipped, in zh", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("imagenet-zh: skipped, in zh", output.ToString(), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(store.Path, "*zh.*.lse"));
        Assert.Single(Directory.GetFiles(store.Path, "imagenet.*.lse"));

        Assert.Equal(0, await PrecomputeLabelSetsCommand.RunAsync(["--cache-path", store.Path, "--label-set", "shapes-zh", $"--Clip:ModelsPath={TinyClip}", $"--Clip:LabelSetsPath={folder.Path}"],
            TextWriter.Null, TextWriter.Null, CancellationToken.None));
        Assert.Single(Directory.GetFiles(store.Path, "shapes-zh.*.lse"));
    }

    [Fact]
    public async Task An_idle_gate_that_is_stopping_starts_no_background_run()
    {
        using var gate = new InferenceGate(Microsoft.Extensions.Options.Options.Create(new InferenceOptions()));
        await gate.WhenIdleAsync(CancellationToken.None);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gate.WhenIdleAsync(new CancellationToken(canceled: true)));
    }

    [Fact]
    public async Task A_released_background_encoder_is_never_opened_again()
    {
        await using var factory = new ClipServiceFactory();
        using var client = await factory.ReadyClientAsync();
        var model = factory.Services.GetRequiredService<ModelRegistry>().Get(null);
        var encoders = factory.Services.GetRequiredService<BackgroundTextEncoders>();
        var encoder = encoders.For(model);
        Assert.Same(encoder, encoders.For(model));
        encoders.Release(model);
        Assert.Throws<ObjectDisposedException>(() => encoders.For(model));
    }

    [Theory]
    [InlineData("auto", PrecomputeMode.Auto)]
    [InlineData("true", PrecomputeMode.True)]
    [InlineData("False", PrecomputeMode.False)]
    public void PrecomputeLabelSets_reads_auto_true_and_false(string value, PrecomputeMode expected)
    {
        var options = new ConfigurationBuilder().AddInMemoryCollection([new("Clip:PrecomputeLabelSets", value)]).Build()
            .GetSection("Clip").Get<LabelSetOptions>()!;
        Assert.Equal(expected, options.PrecomputeLabelSets);
        Assert.True(new LabelSetOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(PrecomputeMode.Auto, new LabelSetOptions().PrecomputeLabelSets);
        Assert.True(new LabelSetOptionsValidator().Validate(null, new LabelSetOptions { PrecomputeLabelSets = (PrecomputeMode)7 }).Failed);
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

}
