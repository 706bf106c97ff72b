using ClipService.Admission;
using ClipService.Classification;
using ClipService.DemoPage;
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
        builder.AddValidatedOptions<ClipOptions>(ClipOptions.SectionName);
        builder.AddValidatedOptions<InferenceOptions>(InferenceOptions.SectionName);
        builder.AddValidatedOptions<BatchingOptions>(BatchingOptions.SectionName);
        builder.AddValidatedOptions<TextCacheOptions>(TextCacheOptions.SectionName);
        builder.AddValidatedOptions<DemoPageOptions>(DemoPageOptions.SectionName);
        builder.AddValidatedOptions<AdmissionOptions>(AdmissionOptions.SectionName);

        // The catalog is read at start so a bad ModelsPath or an incomplete model folder stops the process at once.
        builder.Services.AddSingleton(sp => ModelCatalog.Discover(sp.GetRequiredService<IOptions<ClipOptions>>().Value,
            sp.GetRequiredService<IHostEnvironment>().ContentRootPath));
        builder.Services.AddSingleton<ModelRegistry>();
        builder.Services.AddSingleton<InferenceGate>();
        builder.Services.AddSingleton<TextEmbeddingCache>();
        builder.Services.AddSingleton<ImageBatchers>();
        builder.Services.AddSingleton<AdmissionGates>();
        builder.Services.AddSingleton<ClipInference>();
        builder.Services.AddSingleton<IClipInference>(sp => sp.GetRequiredService<ClipInference>());
        builder.Services.AddHostedService<ModelLoader>();
        builder.AddConnectionLimits();
        builder.AddValidatedOptions<LabelSetOptions>(LabelSetOptions.SectionName);
        builder.Services.AddSingleton<IValidateOptions<LabelSetOptions>, LabelSetFolderValidator>();
        builder.Services.AddSingleton<LabelSetCatalog>();
        builder.Services.AddSingleton<LabelSetEmbeddings>();
        builder.Services.AddHostedService<LabelSetPrecompute>();
        builder.Services.AddSingleton<ZeroShotLabels>();
        builder.Services.AddSingleton<ImageInputs>();
        builder.AddValidatedOptions<ImageUrlOptions>(ImageUrlOptions.SectionName);
        builder.Services.AddImageUrls();
        builder.Services.AddOpenAiErrors();
        builder.Services.Configure<Microsoft.AspNetCore.Http.Features.FormOptions>(form =>
            form.MultipartBodyLengthLimit = builder.Configuration.GetValue($"{ClipOptions.SectionName}:{nameof(ClipOptions.MaxRequestBytes)}", ClipOptions.DefaultMaxRequestBytes));
        return builder;
    }

    // Bound from its section, checked with its data annotations when the host starts.
    private static void AddValidatedOptions<T>(this WebApplicationBuilder builder, string section) where T : class =>
        builder.Services.AddOptionsWithValidateOnStart<T>().Bind(builder.Configuration.GetSection(section)).ValidateDataAnnotations();

    public static WebApplication MapClipEndpoints(this WebApplication app)
    {
        app.MapClassification();
        app.MapEmbeddings();
        app.MapLabelSets();
        app.MapOpenAi();
        app.MapModels();
        app.MapHealth();
        app.MapDemoPage();
        return app;
    }
}
