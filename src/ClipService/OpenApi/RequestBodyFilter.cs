using ClipService.Classification;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace ClipService.OpenApi;

/// <summary>
/// Gives each request content type its own schema: /classify takes a multipart form (file upload) or JSON
/// (base64 image), which minimal-API metadata cannot express with one Accepts type.
/// </summary>
internal sealed class RequestBodyFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (operation.OperationId != "Classify" || operation.RequestBody?.Content is not { } content)
            return;
        if (content.TryGetValue("application/json", out var json))
            json.Schema = context.SchemaGenerator.GenerateSchema(typeof(ClassifyJsonRequest), context.SchemaRepository);
    }
}
