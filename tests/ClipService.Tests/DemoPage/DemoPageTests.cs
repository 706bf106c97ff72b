using System.Net;
using System.Text.RegularExpressions;

namespace ClipService.Tests.DemoPage;

/// <summary>The try-it page as files over HTTP: served at /, self-contained, relative, and switched off by its setting.</summary>
public sealed partial class DemoPageTests(DefaultService service) : IClassFixture<DefaultService>
{
    private static readonly string[] PageFiles = ["/", "/demo.js", "/demo.css"];

    [Fact]
    public async Task Root_serves_the_page_with_its_controls()
    {
        using var response = await service.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<input type=\"file\" id=\"image\" name=\"image\"", html, StringComparison.Ordinal);
        Assert.Contains("<textarea id=\"labels\" name=\"labels\"", html, StringComparison.Ordinal);
        Assert.Contains("<select id=\"model\"", html, StringComparison.Ordinal);
        Assert.Contains("<button type=\"submit\"", html, StringComparison.Ordinal);
        Assert.Contains("<script type=\"module\" src=\"demo.js\">", html, StringComparison.Ordinal);
        Assert.StartsWith("default-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/demo.js", "text/javascript")]
    [InlineData("/demo.css", "text/css")]
    public async Task The_page_assets_are_served_with_their_types(string path, string mediaType)
    {
        using var response = await service.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_page_loads_nothing_from_elsewhere_and_uses_only_relative_urls()
    {
        foreach (var path in PageFiles)
        {
            var text = await service.Client.GetStringAsync(path);
            Assert.False(AbsoluteUrl().IsMatch(text), $"{path} names an absolute URL: {AbsoluteUrl().Match(text).Value}");
            Assert.False(RootRelativeUrl().IsMatch(text), $"{path} has a root-relative URL (breaks under a path base): {RootRelativeUrl().Match(text).Value}");
        }
    }

    [Fact]
    public async Task The_api_and_swagger_are_not_shadowed_by_the_page()
    {
        using var models = await service.Client.GetAsync("/models");
        Assert.Equal("application/json", models.Content.Headers.ContentType?.MediaType);
        using var swagger = await service.Client.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, swagger.StatusCode);
        using var missing = await service.Client.GetAsync("/no-such-page.html");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task The_page_can_be_turned_off()
    {
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?> { ["Clip:EnableDemoPage"] = "false" });
        using var client = factory.CreateClient();
        foreach (var path in PageFiles)
        {
            using var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        using var health = await client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [GeneratedRegex(@"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", RegexOptions.IgnoreCase)]
    private static partial Regex AbsoluteUrl();

    [GeneratedRegex(@"(?:src|href|action)=""/|(?:fetch|endpoint|url)\(\s*['""`]/", RegexOptions.IgnoreCase)]
    private static partial Regex RootRelativeUrl();
}
