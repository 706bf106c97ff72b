using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

public sealed class AccessTests
{
    private static ClipServiceFactory WithKeys(params (string Key, string? Value)[] extra)
    {
        var settings = new Dictionary<string, string?> { ["Clip:Auth:ApiKeys:0"] = TestKeys.A };
        foreach (var (key, value) in extra)
            settings[key] = value;
        return new ClipServiceFactory(settings);
    }

    [Fact]
    public async Task With_a_key_configured_the_api_answers_401_problem_with_www_authenticate_bearer_without_it()
    {
        await using var factory = WithKeys();
        using var client = await factory.ReadyClientAsync();

        using var missing = await client.GetAsync("/models");
        var detail = await AssertProblemAsync(missing, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", Assert.Single(missing.Headers.WwwAuthenticate).Scheme);
        Assert.Contains("X-API-Key", detail, StringComparison.Ordinal);

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/models") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", TestKeys.B) } };
        using var refused = await client.SendAsync(wrong);
        Assert.Contains("not valid", await AssertProblemAsync(refused, HttpStatusCode.Unauthorized), StringComparison.Ordinal);

        using var form = Form(TestImages.Shape("red", "circle"), ("labels", "red circle"));
        await AssertProblemAsync(await client.PostAsync("/classify", form), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Batch_label_sets_and_openai_endpoints_need_the_key_and_v1_answers_in_openai_error_shape()
    {
        await using var factory = WithKeys();
        using var client = await factory.ReadyClientAsync();

        var images = new[] { Convert.ToBase64String(TestImages.Shape("red", "circle")), Convert.ToBase64String(TestImages.Shape("blue", "square")) };
        using (var batch = JsonContent.Create(new { images, labels = new[] { "red circle", "blue square" } }))
            await AssertProblemAsync(await client.PostAsync("/classify/batch", batch), HttpStatusCode.Unauthorized);
        await AssertProblemAsync(await client.GetAsync("/label-sets"), HttpStatusCode.Unauthorized);

        using var models = await client.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
        Assert.Equal("Bearer", Assert.Single(models.Headers.WwwAuthenticate).Scheme);
        using (var body = JsonDocument.Parse(await models.Content.ReadAsStringAsync()))
        {
            var error = body.RootElement.GetProperty("error");
            Assert.Equal("authentication_error", error.GetProperty("type").GetString());
            Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
            Assert.Contains("X-API-Key", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        using var embeddings = new HttpRequestMessage(HttpMethod.Post, "/v1/embeddings")
        {
            Content = JsonContent.Create(new { model = "clip-shapes", input = "a photo of a cat" }),
            Headers = { Authorization = new AuthenticationHeaderValue("Bearer", TestKeys.A) },
        };
        using (var allowed = await client.SendAsync(embeddings))
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task A_refused_key_is_logged_once_in_its_request_line_by_its_hash_only()
    {
        var log = new CapturedLog();
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?> { ["Clip:Auth:ApiKeys:0"] = TestKeys.A }, log.Register);
        using var client = await factory.ReadyClientAsync();
        var before = log.Events.Count;

        Assert.Equal(HttpStatusCode.Unauthorized, await TestKeys.StatusWithKeyAsync(client, TestKeys.B));
        var line = Assert.Single(await log.WaitForAsync(Serilog.Events.LogEventLevel.Information, "HTTP GET /models responded 401"));
        await Task.Delay(200); // anything else the request writes comes before its request line; give it a moment anyway
        var written = log.Events.Skip(before).Select(e => e.Message).ToList();
        Assert.Equal([line], written);
        Assert.Contains($"refused an unknown API key (client {ClipService.Access.ApiKeyStore.ClientId(TestKeys.B)})", line, StringComparison.Ordinal);
        Assert.DoesNotContain(TestKeys.B, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_valid_key_works_as_a_bearer_token_or_in_x_api_key()
    {
        await using var factory = WithKeys(("Clip:Auth:ApiKeys:1", TestKeys.B));
        using var client = await factory.ReadyClientAsync();

        using var bearer = new HttpRequestMessage(HttpMethod.Get, "/models") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", TestKeys.A) } };
        using (var response = await client.SendAsync(bearer))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var header = new HttpRequestMessage(HttpMethod.Get, "/models") { Headers = { { "X-API-Key", TestKeys.B } } };
        using (var response = await client.SendAsync(header))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    [InlineData("/metrics")]
    [InlineData("/swagger/v1/swagger.json")]
    public async Task Probes_metrics_and_the_api_description_need_no_key(string path)
    {
        await using var factory = WithKeys();
        using var client = await factory.ReadyClientAsync();
        using var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_try_it_page_loads_without_a_key_so_a_user_can_enter_one_and_its_api_calls_need_it()
    {
        await using var factory = WithKeys();
        using var client = await factory.ReadyClientAsync();
        using var page = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("api-key", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertProblemAsync(await client.GetAsync("/models"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Metrics_can_be_put_behind_the_key()
    {
        await using var factory = WithKeys(("Clip:Metrics:RequireApiKey", "true"));
        using var client = await factory.ReadyClientAsync();
        await AssertProblemAsync(await client.GetAsync("/metrics"), HttpStatusCode.Unauthorized);
        client.DefaultRequestHeaders.Add("X-API-Key", TestKeys.A);
        using var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("clip_model_info", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keys_from_a_file_are_read_again_when_it_changes()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, $"# keys\n{TestKeys.A}\n");
            await using var factory = new ClipServiceFactory(new Dictionary<string, string?> { ["Clip:Auth:ApiKeysFile"] = file });
            using var client = await factory.ReadyClientAsync();
            Assert.Equal(HttpStatusCode.OK, await TestKeys.StatusWithKeyAsync(client, TestKeys.A));
            Assert.Equal(HttpStatusCode.Unauthorized, await TestKeys.StatusWithKeyAsync(client, TestKeys.B));

            await File.WriteAllTextAsync(file, $"{TestKeys.B}\n");
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (await TestKeys.StatusWithKeyAsync(client, TestKeys.B) != HttpStatusCode.OK && DateTime.UtcNow < deadline)
                await Task.Delay(200);
            Assert.Equal(HttpStatusCode.OK, await TestKeys.StatusWithKeyAsync(client, TestKeys.B));
            Assert.Equal(HttpStatusCode.Unauthorized, await TestKeys.StatusWithKeyAsync(client, TestKeys.A));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Swagger_ui_offers_the_key_as_bearer_token_or_header()
    {
        await using var factory = WithKeys();
        using var client = await factory.ReadyClientAsync();
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"));
        var schemes = doc.RootElement.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("bearer", schemes.GetProperty("Bearer").GetProperty("scheme").GetString());
        Assert.Equal("X-API-Key", schemes.GetProperty("ApiKeyHeader").GetProperty("name").GetString());
        Assert.True(doc.RootElement.GetProperty("security").GetArrayLength() >= 1);
    }

}
