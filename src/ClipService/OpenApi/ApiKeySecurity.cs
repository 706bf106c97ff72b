using ClipService.Access;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace ClipService.OpenApi;

internal static class ApiKeySecurity
{
    private const string Bearer = "Bearer";
    private const string Header = "ApiKeyHeader";

    /// <summary>Swagger UI's Authorize button: the key as a bearer token or in the X-API-Key header.</summary>
    public static void AddApiKeySecurity(this SwaggerGenOptions options)
    {
        options.AddSecurityDefinition(Bearer, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An API key from Clip:Auth, sent as 'Authorization: Bearer <key>'. Needed only when keys are configured.",
        });
        options.AddSecurityDefinition(Header, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = ApiKeyAuthenticationHandler.HeaderName,
            Description = "The same key in the X-API-Key header instead.",
        });
        options.AddSecurityRequirement(document => new OpenApiSecurityRequirement
        {
            [new OpenApiSecuritySchemeReference(Bearer, document)] = [],
        });
        options.AddSecurityRequirement(document => new OpenApiSecurityRequirement
        {
            [new OpenApiSecuritySchemeReference(Header, document)] = [],
        });
    }
}
