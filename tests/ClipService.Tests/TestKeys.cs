using System.Net;

namespace ClipService.Tests;

/// <summary>API keys for tests (well-formed: 16 characters or more) and a request made with one.</summary>
internal static class TestKeys
{
    public const string A = "key-a-0123456789abcdef";
    public const string B = "key-b-0123456789abcdef";

    /// <summary>The status of GET /models sent with <paramref name="key"/> in X-API-Key.</summary>
    public static async Task<HttpStatusCode> StatusWithKeyAsync(HttpClient client, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/models") { Headers = { { "X-API-Key", key } } };
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
