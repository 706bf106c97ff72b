using System.Reflection;
using System.Text.Json;
using ClipService.Access;
using ClipService.Cors;
using ClipService.Diagnostics;
using ClipService.Errors;
using ClipService.Limits;
using ClipService.OpenApi;
using ClipService.RateLimiting;
using ClipService.Requests;
using Microsoft.Extensions.Options;
using Serilog;
using Serilog.Formatting.Compact;

namespace ClipService.Hosting;

/// <summary>Cross-cutting wiring: logging, telemetry, errors, access control, JSON, OpenAPI.</summary>
public static class ServiceDefaults
{
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder)
    {
        builder.Services.AddSerilog((services, logger) =>
        {
            // Start-up failures are reported once, as one line, by StartupFailure; the host's own report would repeat
            // them with a stack trace. Configuration may still lower this.
            logger.MinimumLevel.Override("Microsoft.Extensions.Hosting.Internal.Host", Serilog.Events.LogEventLevel.Fatal);
            logger.ReadFrom.Configuration(builder.Configuration).ReadFrom.Services(services).Enrich.FromLogContext();
            logger.Enrich.With<LogSanitizing>(); // request data cannot forge lines in the text format (#13)
            // Readable console locally; compact JSON (one object per line) where Logging:Json is set, as in the container.
            if (builder.Configuration.GetValue<bool>("Logging:Json"))
                logger.WriteTo.Console(new RenderedCompactJsonFormatter());
            else
                logger.WriteTo.Console(formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        }, preserveStaticLogger: true); // this host's logger, not Serilog's static one: that is whichever host was built or disposed last

        builder.AddValidatedOptions<RequestLimitsOptions, RequestLimitsOptionsValidator>(RequestLimitsOptions.SectionName);
        builder.AddBoundOptions<OpenApiOptions>(OpenApiOptions.SectionName);
        builder.AddBoundOptions<MetricsOptions>(MetricsOptions.SectionName);
        builder.AddValidatedOptions<ApiKeyOptions, ApiKeyOptionsValidator>(ApiKeyOptions.SectionName);
        builder.AddValidatedOptions<RateLimitingOptions, RateLimitingOptionsValidator>(RateLimitingOptions.SectionName);
        builder.AddValidatedOptions<CrossOriginOptions, CrossOriginOptionsValidator>(CrossOriginOptions.SectionName);

        builder.Services.AddTelemetry(builder.Configuration);
        builder.Services.AddProblemResponses();
        builder.Services.AddRequestBodyLimits();
        builder.Services.AddApiKeyAccess();
        builder.Services.AddClientRateLimiting();
        builder.Services.AddCrossOrigin();
        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            options.SerializerOptions.PropertyNameCaseInsensitive = true;
            options.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
        });
        builder.Services.Configure<Microsoft.AspNetCore.Mvc.JsonOptions>(options =>
            options.JsonSerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);

        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new Microsoft.OpenApi.OpenApiInfo
            {
                Title = "ClipService",
                Version = "v1",
                Description = "Zero-shot image classification and embeddings with CLIP. Upload an image with candidate labels to POST /classify; see GET /models for the loaded models.",
            });
            options.OperationFilter<RequestBodyFilter>();
            // Embedding rows are ReadOnlyMemory<float> end to end; JSON writes them as arrays of numbers.
            options.MapType<ReadOnlyMemory<float>>(() => new Microsoft.OpenApi.OpenApiSchema
            {
                Type = Microsoft.OpenApi.JsonSchemaType.Array,
                Items = new Microsoft.OpenApi.OpenApiSchema { Type = Microsoft.OpenApi.JsonSchemaType.Number, Format = "float" },
            });
            options.AddApiKeySecurity();
            var xml = Path.Combine(AppContext.BaseDirectory, $"{Assembly.GetExecutingAssembly().GetName().Name}.xml");
            if (File.Exists(xml))
                options.IncludeXmlComments(xml);
        });
        return builder;
    }

    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        // Outermost, so the request log records the status the client gets (problem details included).
        app.UseSerilogRequestLogging(options => RequestLog.Configure(options, app.Services.GetRequiredService<Serilog.ILogger>()));
        app.UseRequestDeadlines();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRequestBodyLimits();
        app.UseWholeResponses();
        // Swagger stays open with API keys on: the UI must load for a user to enter a key (its Authorize button).
        app.UseWhen(context => context.RequestServices.GetRequiredService<IOptions<OpenApiOptions>>().Value.EnableSwagger, swagger =>
        {
            swagger.UseSwagger();
            swagger.UseSwaggerUI(options => options.DocumentTitle = "ClipService API");
        });
        // CORS before authentication: a browser's preflight carries no key. Rate limits after it, so a client with a key
        // is limited as that key; before authorization, so guessing keys is limited too.
        app.UseRouting();
        app.UseCors();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        return app;
    }

    // Options with nothing to check beyond their types: bound at start, so a value of the wrong type stops the process.
    internal static void AddBoundOptions<TOptions>(this WebApplicationBuilder builder, string section) where TOptions : class =>
        builder.Services.AddOptionsWithValidateOnStart<TOptions>().Bind(builder.Configuration.GetSection(section));

    // Bound from its section; checked by its source-generated validator (nested sections included) when the host starts.
    internal static void AddValidatedOptions<TOptions, TValidator>(this WebApplicationBuilder builder, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        builder.Services.AddOptionsWithValidateOnStart<TOptions>().Bind(builder.Configuration.GetSection(section));
        builder.Services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
    }
}
