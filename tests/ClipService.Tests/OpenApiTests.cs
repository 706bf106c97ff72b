using System.Net;
using System.Text.Json;

namespace ClipService.Tests;

public sealed class OpenApiTests(DefaultService service) : IClassFixture<DefaultService>
{
    [Fact]
    public async Task The_document_lists_every_endpoint_with_summaries()
    {
        using var doc = JsonDocument.Parse(await service.Client.GetStringAsync("/swagger/v1/swagger.json"));
        var paths = doc.RootElement.GetProperty("paths");
        var expected = new (string Path, string Method)[]
        {
            ("/classify", "post"), ("/embed/image", "post"), ("/embed/text", "post"), ("/models", "get"),
            ("/health/live", "get"), ("/health/ready", "get"),
            ("/classify/batch", "post"), ("/label-sets", "get"), ("/v1/embeddings", "post"), ("/v1/models", "get"), ("/v1/models/{model}", "get"),
        };
        foreach (var (path, method) in expected)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is missing");
            var operation = item.GetProperty(method);
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()), $"{path} has no summary");
        }

        Assert.Equal(expected.Length, paths.EnumerateObject().Count());
    }

    [Fact]
    public async Task Classify_documents_a_file_upload_form_and_a_json_body()
    {
        using var doc = JsonDocument.Parse(await service.Client.GetStringAsync("/swagger/v1/swagger.json"));
        var content = doc.RootElement.GetProperty("paths").GetProperty("/classify").GetProperty("post").GetProperty("requestBody").GetProperty("content");
        var form = content.GetProperty("multipart/form-data").GetProperty("schema");
        var formText = form.ToString();
        Assert.Contains("binary", Resolve(doc, form).ToString(), StringComparison.Ordinal);
        Assert.True(content.TryGetProperty("application/json", out var json));
        var jsonSchema = Resolve(doc, json.GetProperty("schema"));
        Assert.True(jsonSchema.GetProperty("properties").TryGetProperty("image", out var image), formText);
        Assert.Equal("string", image.GetProperty("type").GetString());
        Assert.True(jsonSchema.GetProperty("properties").TryGetProperty("top_k", out _));
    }

    [Theory]
    [InlineData("/classify/batch", "images")]
    [InlineData("/embed/image", "image")]
    public async Task Upload_endpoints_document_a_form_and_a_json_body_with_examples(string path, string field)
    {
        using var doc = JsonDocument.Parse(await service.Client.GetStringAsync("/swagger/v1/swagger.json"));
        var content = doc.RootElement.GetProperty("paths").GetProperty(path).GetProperty("post").GetProperty("requestBody").GetProperty("content");
        var form = Resolve(doc, content.GetProperty("multipart/form-data").GetProperty("schema"));
        Assert.Contains("binary", form.GetProperty("properties").GetProperty(field).ToString(), StringComparison.Ordinal);
        var json = Resolve(doc, content.GetProperty("application/json").GetProperty("schema"));
        Assert.True(json.GetProperty("properties").GetProperty(field).TryGetProperty("example", out _), json.ToString());
    }

    [Fact]
    public async Task Openai_embeddings_document_the_request_with_examples_and_embedding_rows_as_number_arrays()
    {
        using var doc = JsonDocument.Parse(await service.Client.GetStringAsync("/swagger/v1/swagger.json"));
        var schemas = doc.RootElement.GetProperty("components").GetProperty("schemas");
        var request = schemas.GetProperty("OpenAiEmbeddingsRequest").GetProperty("properties");
        Assert.Equal("clip-shapes", request.GetProperty("model").GetProperty("example").GetString());
        Assert.Equal(JsonValueKind.Array, request.GetProperty("input").GetProperty("example").ValueKind);
        var rows = schemas.GetProperty("EmbeddingsResponse").GetProperty("properties").GetProperty("embeddings").GetProperty("items");
        Assert.Equal("array", rows.GetProperty("type").GetString());
        Assert.Equal("number", rows.GetProperty("items").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Swagger_ui_is_served()
    {
        using var response = await service.Client.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Swagger_can_be_turned_off()
    {
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?> { ["Clip:EnableSwagger"] = "false" });
        using var client = await factory.ReadyClientAsync();
        using var response = await client.GetAsync("/swagger/v1/swagger.json");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private static JsonElement Resolve(JsonDocument doc, JsonElement schema)
    {
        if (!schema.TryGetProperty("$ref", out var reference))
            return schema;
        var name = reference.GetString()!.Split('/')[^1];
        return doc.RootElement.GetProperty("components").GetProperty("schemas").GetProperty(name);
    }
}
