using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace ClipService.OpenApi;

/// <summary>Endpoint metadata: the type of the endpoint's application/json body when it also takes a multipart form.</summary>
/// <param name="Type">The JSON body's type.</param>
public sealed record JsonRequestBody(Type Type);

/// <summary>
/// Gives each request content type its own schema: an endpoint that takes a multipart form (file upload) or JSON
/// (base64 image) declares the JSON type with <see cref="EndpointConventions.AcceptsFormOrJson{TForm, TJson}"/>, which
/// minimal-API metadata cannot express with one Accepts type.
/// </summary>
internal sealed class RequestBodyFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var json = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<JsonRequestBody>().FirstOrDefault();
        if (json is null || operation.RequestBody?.Content is not { } content)
            return;
        if (content.TryGetValue("application/json", out var media))
            media.Schema = context.SchemaGenerator.GenerateSchema(json.Type, context.SchemaRepository);
    }
}
