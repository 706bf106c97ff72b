using ClipService.Admission;
using ClipService.Classification;
using ClipService.DemoPage;
using ClipService.Diagnostics;
using ClipService.Embeddings;
using ClipService.Health;
using ClipService.ImageUrls;
using ClipService.LabelSets;
using ClipService.OpenAi;
using ClipService.Requests;
using ClipService.Inference;
using ClipService.Limits;
using ClipService.Models;
using Microsoft.Extensions.Options;

namespace ClipService.Hosting;

/// <summary>The service's features: models, inference, endpoints.</summary>
public static class ClipServiceRegistration
{
    public static WebApplicationBuilder AddClipFeatures(this WebApplicationBuilder builder)
    {
        builder.AddDeploymentDefaults();
        builder.AddValidatedOptions<ModelOptions, ModelOptionsValidator>(ModelOptions.SectionName);
        builder.AddValidatedOptions<InferenceOptions, InferenceOptionsValidator>(InferenceOptions.SectionName);
        builder.AddValidatedOptions<BatchingOptions, BatchingOptionsValidator>(BatchingOptions.SectionName);
        builder.AddValidatedOptions<TextCacheOptions, TextCacheOptionsValidator>(TextCacheOptions.SectionName);
        builder.AddBoundOptions<DemoPageOptions>(DemoPageOptions.SectionName);
        builder.AddValidatedOptions<AdmissionOptions, AdmissionOptionsValidator>(AdmissionOptions.SectionName);

        // The catalog is read at start so a bad ModelsPath or an incomplete model folder stops the process at once.
        builder.Services.AddSingleton(sp => ModelCatalog.Discover(sp.GetRequiredService<IOptions<ModelOptions>>().Value,
            sp.GetRequiredService<IHostEnvironment>().ContentRootPath));
        builder.Services.AddSingleton<ModelRegistry>();
        builder.Services.AddSingleton<InferenceGate>();
        builder.Services.AddSingleton<TextEmbeddingCache>();
        builder.Services.AddSingleton<ImageBatchers>();
        builder.Services.AddSingleton<AdmissionGates>();
        builder.Services.AddSingleton<BackgroundTextEncoders>();
        builder.Services.AddSingleton<ClipInference>();
        builder.Services.AddSingleton<IClipInference>(sp => sp.GetRequiredService<ClipInference>());
        builder.Services.AddHostedService<ModelLoader>();
        builder.AddConnectionLimits();
        builder.AddValidatedOptions<LabelSetOptions, LabelSetOptionsValidator>(LabelSetOptions.SectionName);
        builder.Services.AddSingleton<IValidateOptions<LabelSetOptions>, LabelSetFolderValidator>();
        builder.Services.AddSingleton<LabelSetCatalog>();
        builder.Services.AddSingleton<LabelSetStore>();
        builder.Services.AddSingleton<LabelSetEmbeddings>();
        builder.Services.AddSingleton<PrecomputeProgress>();
        builder.Services.AddSingleton<ITextEncoderCost, MeasuredTextEncoderCost>();
        builder.Services.AddHostedService<LabelSetPrecompute>();
        builder.Services.AddSingleton<ZeroShotLabels>();
        builder.Services.AddSingleton<ImageInputs>();
        builder.AddValidatedOptions<ImageUrlOptions, ImageUrlOptionsValidator>(ImageUrlOptions.SectionName);
        builder.Services.AddImageUrls();
        builder.Services.AddOpenAiErrors();
        builder.Services.AddClipHealthChecks();
        return builder;
    }

    public static WebApplication MapClipEndpoints(this WebApplication app)
    {
        // The API's endpoints share one group, whose filter fills the request log's model and label count.
        var api = app.MapGroup("").WithRequestLog();
        api.MapClassification();
        api.MapEmbeddings();
        api.MapLabelSets();
        api.MapOpenAi();
        api.MapModels();
        app.MapHealth();
        app.MapMetrics();
        app.MapDemoPage();
        return app;
    }
}
