using System.Diagnostics;
using ClipService.Core.Encoders;
using ClipService.Core.Models;
using ClipService.Diagnostics;
using ClipService.Hosting;
using ClipService.Inference;
using ClipService.Models;
using Microsoft.Extensions.Options;

namespace ClipService.LabelSets;

/// <summary>
/// <c>ClipService precompute-label-sets</c>: embeds label sets into the store (Clip:LabelSets:CachePath) ahead of
/// time, with the service's own code and settings, so a service started on that store (a volume, or an image layer)
/// loads them instead of computing them. Sets already stored are skipped. Exit 0 when every set asked for is in the
/// store, 2 for a usage error, 1 when a model does not load or the store cannot be written.
/// </summary>
public static class PrecomputeLabelSetsCommand
{
    public const string Name = "precompute-label-sets";

    public const string Help = """
        ClipService precompute-label-sets [--model NAME]... [--label-set NAME]... [--cache-path DIR] [--Clip:Setting=value ...]
          Embeds label sets into the label-set store, so that a service started with Clip:LabelSets:CachePath=DIR
          (a shared volume, or a folder baked into an image) loads them instead of computing them. Sets already in
          the store are skipped. Uses the service's settings (appsettings.json, environment, --Clip:...): models,
          precision, execution provider, Clip:LabelSetsPath, Clip:Batching:MaxTextBatchSize; every core.
          --model NAME       a model folder's name under Clip:ModelsPath; repeat for more (default: the default model)
          --all-models       every model under Clip:ModelsPath
          --label-set NAME   a built-in set or one in Clip:LabelSetsPath; repeat for more (default: every set in
                             a language the model reads: imagenet-zh is skipped for an English CLIP)
          --cache-path DIR   the store (default: Clip:LabelSets:CachePath); created if missing
          Exit codes: 0 every set asked for is in the store, 2 usage or settings error, 1 a model does not load or
          the store cannot be written.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var models = new List<string>();
        var sets = new List<string>();
        var allModels = false;
        string? cachePath = null;
        var settings = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            string? Value() => i + 1 < args.Length ? args[++i] : null;
            switch (args[i])
            {
                case "-h" or "--help":
                    await output.WriteLineAsync(Help);
                    return 0;
                case "--model" when Value() is { } model: models.Add(model); break;
                case "--label-set" when Value() is { } set: sets.Add(set); break;
                case "--cache-path" when Value() is { } path: cachePath = path; break;
                case "--all-models": allModels = true; break;
                case var setting when setting.StartsWith("--", StringComparison.Ordinal) && setting.Contains(':', StringComparison.Ordinal):
                    settings.Add(setting);
                    break;
                default:
                    await error.WriteLineAsync($"{Name}: unknown argument or missing value '{args[i]}'.\n{Help}");
                    return 2;
            }
        }

        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine([.. settings])
            .AddInMemoryCollection(cachePath is null ? [] : [new("Clip:LabelSets:CachePath", cachePath)])
            .Build();
        await using var services = Services(configuration);
        ModelOptions modelOptions;
        LabelSetOptions labelSetOptions;
        try
        {
            modelOptions = services.GetRequiredService<IOptions<ModelOptions>>().Value;
            labelSetOptions = services.GetRequiredService<IOptions<LabelSetOptions>>().Value;
            _ = services.GetRequiredService<IOptions<BatchingOptions>>().Value;
            _ = services.GetRequiredService<IOptions<InferenceOptions>>().Value;
            _ = services.GetRequiredService<IOptions<TextCacheOptions>>().Value;
        }
        catch (Exception e) when (e is OptionsValidationException or InvalidOperationException)
        {
            await error.WriteLineAsync($"{Name}: {StartupFailure.OneLine(e is OptionsValidationException v ? string.Join("; ", v.Failures) : e.Message)}");
            return 2;
        }

        var store = services.GetRequiredService<LabelSetStore>();
        if (!store.Enabled)
        {
            await error.WriteLineAsync($"{Name}: give --cache-path DIR or Clip:LabelSets:CachePath.");
            return 2;
        }

        ModelCatalog catalog;
        try
        {
            catalog = ModelCatalog.Discover(modelOptions, AppContext.BaseDirectory);
        }
        catch (ModelFolderException e)
        {
            await error.WriteLineAsync($"{Name}: {e.Message}");
            return 1;
        }

        var folders = catalog.Folders.ToDictionary(f => Path.GetFileName(f)!, StringComparer.Ordinal);
        var chosenModels = allModels ? [.. folders.Keys] : models.Count > 0 ? models : [catalog.DefaultModel];
        if (chosenModels.FirstOrDefault(m => !folders.ContainsKey(m)) is { } unknownModel)
        {
            await error.WriteLineAsync($"{Name}: no model '{unknownModel}' in {catalog.ModelsPath}: {string.Join(", ", folders.Keys)}.");
            return 2;
        }

        var labelSets = services.GetRequiredService<LabelSetCatalog>();
        var chosenSets = new List<LabelSet>();
        foreach (var name in sets)
        {
            if (!labelSets.TryGet(name, out var set))
            {
                await error.WriteLineAsync($"{Name}: no label set '{name}': {string.Join(", ", labelSets.All.Select(s => s.Name).Order(StringComparer.Ordinal))}.");
                return 2;
            }

            chosenSets.Add(set);
        }

        // Named sets are embedded for every chosen model; by default, each model gets the sets in languages it reads.
        var setsNamed = chosenSets.Count > 0;
        if (!setsNamed)
            chosenSets.AddRange(labelSets.All.OrderBy(s => s.Labels.Count));

        var inference = services.GetRequiredService<ClipInference>();
        foreach (var modelName in chosenModels)
        {
            ClipModel model;
            try
            {
                model = ClipModel.Load(folders[modelName], new ClipModelLoadOptions
                {
                    Precision = modelOptions.Precision,
                    ExecutionProvider = modelOptions.ExecutionProvider,
                    ImageDecoding = modelOptions.ImageDecoding,
                    LogitScale = modelOptions.LogitScale,
                });
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await error.WriteLineAsync($"{Name}: model folder '{folders[modelName]}' could not be loaded: {StartupFailure.OneLine(e.Message)}");
                return 1;
            }

            using (model)
            {
                var modelSets = setsNamed ? chosenSets : [.. chosenSets.Where(s => model.Reads(s.Language))];
                foreach (var skipped in chosenSets.Except(modelSets))
                    await output.WriteLineAsync($"{model.Name} {skipped.Name}: skipped, in {skipped.Language} (the model reads {string.Join(", ", model.Languages!.Order())}; name it with --label-set to embed it anyway).");
                if (await PrecomputeModelAsync(model, modelSets, store, inference, output, error, cancellationToken) is { } failed)
                    return failed;
            }
        }

        await output.WriteLineAsync($"Done: {chosenSets.Count} set(s) × {chosenModels.Count} model(s) in {store.Folder}.");
        return 0;
    }

    private static async Task<int?> PrecomputeModelAsync(ClipModel model, List<LabelSet> sets, LabelSetStore store, ClipInference inference,
        TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        foreach (var set in sets)
        {
            var templates = LabelSetEmbeddings.TemplatesOf(set, model);
            if (await store.TryLoadAsync(model, set.Name, set.Labels, templates, cancellationToken) is not null)
            {
                await output.WriteLineAsync($"{model.Name} {set.Name}: already in the store.");
                continue;
            }

            var started = Stopwatch.GetTimestamp();
            var prompts = set.Labels.Count * templates.Count;
            var embeddings = await inference.ComputeLabelsAsync(model, set.Labels, templates, EncoderPriority.Request, new Reporter(output, model.Name, set.Name, prompts), cancellationToken);
            if (!await store.SaveAsync(model, set.Name, set.Labels, templates, embeddings, cancellationToken))
            {
                await error.WriteLineAsync($"{Name}: the store {store.Folder} cannot be written.");
                return 1;
            }

            await output.WriteLineAsync($"{model.Name} {set.Name}: {set.Labels.Count} labels × {templates.Count} templates embedded in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s.");
        }

        return null;
    }

    /// <summary>One line per tenth of a large set.</summary>
    private sealed class Reporter(TextWriter output, string model, string set, int total) : IProgress<int>
    {
        private int _done;
        private int _reportedTenths;

        public void Report(int value)
        {
            _done += value;
            var tenths = (int)(10L * _done / total);
            if (total >= 10_000 && tenths > _reportedTenths && tenths < 10)
            {
                _reportedTenths = tenths;
                output.WriteLine($"{model} {set}: {_done} of {total} prompts");
            }
        }
    }

    private static ServiceProvider Services(IConfiguration configuration)
    {
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddLogging(logging => logging
            .AddConfiguration(configuration.GetSection("Logging"))
            .SetMinimumLevel(LogLevel.Warning)
            .AddSimpleConsole(console => console.SingleLine = true)
            .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace)); // stdout is the command's own
        services.AddMetrics();
        Bind<ModelOptions, ModelOptionsValidator>(services, configuration, ModelOptions.SectionName);
        Bind<LabelSetOptions, LabelSetOptionsValidator>(services, configuration, LabelSetOptions.SectionName);
        services.AddSingleton<IValidateOptions<LabelSetOptions>, LabelSetFolderValidator>();
        Bind<InferenceOptions, InferenceOptionsValidator>(services, configuration, InferenceOptions.SectionName);
        Bind<BatchingOptions, BatchingOptionsValidator>(services, configuration, BatchingOptions.SectionName);
        Bind<TextCacheOptions, TextCacheOptionsValidator>(services, configuration, TextCacheOptions.SectionName);
        services.AddSingleton<ClipMetrics>();
        services.AddSingleton<InferenceGate>();
        services.AddSingleton<TextEmbeddingCache>();
        services.AddSingleton<ImageBatchers>();
        services.AddSingleton<BackgroundTextEncoders>();
        services.AddSingleton<ClipInference>();
        services.AddSingleton<LabelSetStore>();
        services.AddSingleton<LabelSetCatalog>();
        return services.BuildServiceProvider();
    }

    private static void Bind<TOptions, TValidator>(IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddOptions<TOptions>().Bind(configuration.GetSection(section));
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
    }
}
