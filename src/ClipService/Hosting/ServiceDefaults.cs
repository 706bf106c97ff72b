using System.Reflection;
using System.Text.Json;
using ClipService.Errors;
using ClipService.Models;
using ClipService.OpenApi;
using Serilog;
using Serilog.Formatting.Compact;

namespace ClipService.Hosting;

/// <summary>Cross-cutting wiring: logging, errors, JSON, OpenAPI.</summary>
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
        });

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            options.SerializerOptions.PropertyNameCaseInsensitive = true;
            options.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
        });
        // Client errors are answered, not failures of the service: no error log with a stack trace for them.
        builder.Services.Configure<ExceptionHandlerOptions>(options =>
            options.SuppressDiagnosticsCallback = context => context.Exception is ClientErrorException or ClipService.Core.Imaging.InvalidImageException
                || FrameworkFailures.Classify(context.Exception, context.HttpContext) is not null);
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
            var xml = Path.Combine(AppContext.BaseDirectory, $"{Assembly.GetExecutingAssembly().GetName().Name}.xml");
            if (File.Exists(xml))
                options.IncludeXmlComments(xml);
        });
        return builder;
    }

    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        // Outermost, so the request log records the status the client gets (problem details included).
        app.UseSerilogRequestLogging(RequestLog.Configure);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        // Refuse a declared oversized body before reading it (Kestrel enforces the same limit on undeclared ones).
        var maxRequestBytes = app.Configuration.GetValue($"{ClipOptions.SectionName}:{nameof(ClipOptions.MaxRequestBytes)}", ClipOptions.DefaultMaxRequestBytes);
        app.Use((context, next) => context.Request.ContentLength > maxRequestBytes ? throw new PayloadTooLargeException(maxRequestBytes) : next(context));
        if (app.Configuration.GetValue($"{ClipOptions.SectionName}:{nameof(ClipOptions.EnableSwagger)}", true))
        {
            app.UseSwagger();
            app.UseSwaggerUI(options => options.DocumentTitle = "ClipService API");
        }

        return app;
    }
}
