namespace ClipService.OpenApi;

/// <summary>The Swagger key of the "Clip" section.</summary>
public sealed class OpenApiOptions
{
    public const string SectionName = "Clip";

    /// <summary>Serve Swagger UI at /swagger and the OpenAPI document at /swagger/v1/swagger.json (turn off on public deployments).</summary>
    public bool EnableSwagger { get; set; } = true;
}
