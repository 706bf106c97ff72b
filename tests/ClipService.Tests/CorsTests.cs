using System.Net;

namespace ClipService.Tests;

public sealed class CorsTests
{
    private const string Allowed = "https://app.example.com";

    [Fact]
    public async Task Without_allowed_origins_a_preflight_is_not_answered()
    {
        await using var factory = new ClipServiceFactory();
        using var client = factory.CreateClient();
        using var response = await client.SendAsync(Preflight(Allowed));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task An_allowed_origin_gets_its_preflight_answered_even_when_keys_are_required_and_others_do_not()
    {
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?>
        {
            ["Clip:Cors:AllowedOrigins:0"] = Allowed,
            ["Clip:Auth:ApiKeys:0"] = TestKeys.A,
        });
        using var client = await factory.ReadyClientAsync();

        using var allowed = await client.SendAsync(Preflight(Allowed));
        Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
        Assert.Equal(Allowed, Assert.Single(allowed.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Contains("x-api-key", string.Join(",", allowed.Headers.GetValues("Access-Control-Allow-Headers")), StringComparison.OrdinalIgnoreCase);

        using var other = await client.SendAsync(Preflight("https://evil.example.net"));
        Assert.False(other.Headers.Contains("Access-Control-Allow-Origin"));

        using var request = new HttpRequestMessage(HttpMethod.Get, "/models") { Headers = { { "Origin", Allowed }, { "X-API-Key", TestKeys.A } } };
        using var actual = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, actual.StatusCode);
        Assert.Equal(Allowed, Assert.Single(actual.Headers.GetValues("Access-Control-Allow-Origin")));
    }

    private static HttpRequestMessage Preflight(string origin) => new(HttpMethod.Options, "/classify")
    {
        Headers =
        {
            { "Origin", origin },
            { "Access-Control-Request-Method", "POST" },
            { "Access-Control-Request-Headers", "x-api-key,content-type" },
        },
    };
}
