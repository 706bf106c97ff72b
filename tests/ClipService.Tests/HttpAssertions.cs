using System.Net;
using System.Text.Json;

namespace ClipService.Tests;

internal static class HttpAssertions
{
    /// <summary>Asserts a ProblemDetails response with the status, and returns its detail.</summary>
    public static async Task<string> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(body);
        Assert.Equal((int)status, doc.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(doc.RootElement.GetProperty("title").GetString()));
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal); // no stack trace
        return doc.RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() ?? "" : "";
    }

    public static MultipartFormDataContent Form(byte[]? image, params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        if (image is not null)
            form.Add(new ByteArrayContent(image), "image", "image.png");
        foreach (var (name, value) in fields)
            form.Add(new StringContent(value), name);
        return form;
    }
}
