using System.Net;
using System.Net.Http.Json;
using System.Text;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

/// <summary>Every bad input gets its 4xx with a ProblemDetails body, and the service carries on.</summary>
public sealed class ErrorTests(DefaultService service) : IClassFixture<DefaultService>
{
    private HttpClient Client => service.Client;
    private static byte[] RedCircle => TestImages.Shape("red", "circle");

    [Fact]
    public async Task Classify_returns_400_without_an_image()
    {
        using var form = Form(null, ("labels", "cat"));
        var detail = await AssertProblemAsync(await Client.PostAsync("/classify", form), HttpStatusCode.BadRequest);
        Assert.Contains("'image'", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Classify_returns_400_when_the_image_field_is_text()
    {
        using var form = Form(null, ("image", "not a file"), ("labels", "cat"));
        var detail = await AssertProblemAsync(await Client.PostAsync("/classify", form), HttpStatusCode.BadRequest);
        Assert.Contains("file upload", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Classify_returns_400_without_labels()
    {
        using var form = Form(RedCircle);
        var detail = await AssertProblemAsync(await Client.PostAsync("/classify", form), HttpStatusCode.BadRequest);
        Assert.Contains("labels", detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("   ", "must not be empty")]
    [InlineData("cat,,dog", "must not be empty")]
    [InlineData("cat, cat", "twice")]
    public async Task Classify_returns_400_for_bad_label_lists(string labels, string expected)
    {
        using var form = Form(RedCircle, ("labels", labels));
        var detail = await AssertProblemAsync(await Client.PostAsync("/classify", form), HttpStatusCode.BadRequest);
        Assert.Contains(expected, detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Classify_returns_400_for_too_many_labels()
    {
        using var form = Form(RedCircle, [.. Enumerable.Range(0, 300).Select(i => ("labels", $"label {i}"))]);
        var detail = await AssertProblemAsync(await Client.PostAsync("/classify", form), HttpStatusCode.BadRequest);
        Assert.Contains("At most 256 labels", detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("template", "no placeholder", "must contain {}")]
    [InlineData("templates", "unknown-set", "named set")]
    [InlineData("top_k", "0", "at least 1")]
    [InlineData("top_k", "many", "whole number")]
    public async Task Classify_returns_400_for_bad_options(string field, string value, string expected)
    {
        using var form = Form(RedCircle, ("labels", "cat"), (field, value));
        var detail = await AssertProblemAsync(await Client.PostAsync("/classify", form), HttpStatusCode.BadRequest);
        Assert.Contains(expected, detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"image": "AAAA", "labels": ["cat"], "top_k": 99999999999}""", "'top_k' must be a whole number from -2147483648 to 2147483647")]
    [InlineData("""{"image": "AAAA", "labels": ["cat"], "top_k": 1.5}""", "'top_k' must be a whole number")]
    [InlineData("""{"image": "AAAA", "labels": "cat"}""", "'labels' must be a list")]
    [InlineData("""{"image": 7, "labels": ["cat"]}""", "'image' must be a string")]
    public async Task Classify_returns_400_naming_the_field_and_no_dotnet_type_for_a_json_value_of_the_wrong_type(string json, string expected)
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        var detail = await AssertProblemAsync(await Client.PostAsync("/classify", content), HttpStatusCode.BadRequest);
        Assert.Contains(expected, detail, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Int32", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Classify_returns_400_with_the_range_for_a_form_top_k_beyond_int32()
    {
        using var form = Form(RedCircle, ("labels", "cat"), ("top_k", "99999999999"));
        var detail = await AssertProblemAsync(await Client.PostAsync("/classify", form), HttpStatusCode.BadRequest);
        Assert.Contains("from -2147483648 to 2147483647", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Classify_returns_400_for_template_and_templates_together()
    {
        var response = await Client.PostAsJsonAsync("/classify", new { image = Convert.ToBase64String(RedCircle), labels = new[] { "cat" }, template = "a {}", templates = new[] { "the {}" } });
        Assert.Contains("not both", await AssertProblemAsync(response, HttpStatusCode.BadRequest), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Classify_returns_415_for_a_text_file_named_png()
    {
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(Encoding.UTF8.GetBytes("definitely not an image")), "image", "photo.png" },
            { new StringContent("cat"), "labels" },
        };
        var detail = await AssertProblemAsync(await Client.PostAsync("/classify", form), HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("supported format", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Classify_returns_400_for_a_truncated_png()
    {
        var truncated = RedCircle[..200];
        using var form = Form(truncated, ("labels", "cat"));
        await AssertProblemAsync(await Client.PostAsync("/classify", form), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Classify_returns_400_for_an_empty_upload()
    {
        using var form = Form([], ("labels", "cat"));
        Assert.Contains("empty", await AssertProblemAsync(await Client.PostAsync("/classify", form), HttpStatusCode.BadRequest), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Classify_returns_404_for_an_unknown_model()
    {
        using var form = Form(RedCircle, ("labels", "cat"), ("model", "no-such-model"));
        var detail = await AssertProblemAsync(await Client.PostAsync("/classify", form), HttpStatusCode.NotFound);
        Assert.Contains("clip-shapes", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Classify_returns_415_for_a_plain_text_body()
    {
        using var content = new StringContent("cat", Encoding.UTF8, "text/plain");
        await AssertProblemAsync(await Client.PostAsync("/classify", content), HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData("{ not json", "invalid")]
    [InlineData("{\"image\": \"%%%\", \"labels\": [\"cat\"]}", "base64")]
    [InlineData("{\"labels\": [\"cat\"]}", "'image'")]
    [InlineData("null", "empty")]
    public async Task Classify_returns_400_for_bad_json(string body, string expected)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var detail = await AssertProblemAsync(await Client.PostAsync("/classify", content), HttpStatusCode.BadRequest);
        Assert.Contains(expected, detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Embed_text_returns_400_without_texts_and_415_for_a_form()
    {
        await AssertProblemAsync(await Client.PostAsJsonAsync("/embed/text", new { model = "clip-shapes" }), HttpStatusCode.BadRequest);
        await AssertProblemAsync(await Client.PostAsJsonAsync("/embed/text", new { texts = Array.Empty<string>() }), HttpStatusCode.BadRequest);
        using var form = Form(RedCircle);
        await AssertProblemAsync(await Client.PostAsync("/embed/text", form), HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Embed_image_returns_400_without_an_image_and_404_for_an_unknown_model()
    {
        using var empty = Form(null, ("model", "clip-shapes"));
        await AssertProblemAsync(await Client.PostAsync("/embed/image", empty), HttpStatusCode.BadRequest);
        using var unknown = Form(RedCircle, ("model", "nope"));
        await AssertProblemAsync(await Client.PostAsync("/embed/image", unknown), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task After_a_burst_of_bad_requests_the_service_still_answers_good_ones()
    {
        var bad = Enumerable.Range(0, 20).Select(async _ =>
        {
            using var form = Form(Encoding.UTF8.GetBytes("garbage"), ("labels", "cat"));
            using var response = await Client.PostAsync("/classify", form);
            return response.StatusCode;
        });
        Assert.All(await Task.WhenAll(bad), s => Assert.Equal(HttpStatusCode.UnsupportedMediaType, s));
        using var good = Form(RedCircle, ("labels", "red circle"), ("labels", "blue star"));
        using var response = await Client.PostAsync("/classify", good);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

/// <summary>Limits that need their own configuration.</summary>
public sealed class LimitTests
{
    [Fact]
    public async Task Classify_returns_413_for_a_body_over_the_limit()
    {
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?> { ["Clip:MaxRequestBytes"] = "4096" });
        using var client = await factory.ReadyClientAsync();
        using var form = Form(new byte[20_000], ("labels", "cat"));
        await AssertProblemAsync(await client.PostAsync("/classify", form), HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Classify_returns_413_for_an_image_over_the_pixel_limit()
    {
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?> { ["Clip:ImageDecoding:MaxPixels"] = "10000" });
        using var client = await factory.ReadyClientAsync();
        using var form = Form(TestImages.Blank(200, 100), ("labels", "cat"));
        var detail = await AssertProblemAsync(await client.PostAsync("/classify", form), HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("200×100", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_model_is_chosen_by_name()
    {
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?>
        {
            ["Clip:ModelsPath"] = ClipServiceFactory.TestModels,
            ["Clip:DefaultModel"] = "tiny-clip",
        });
        using var client = await factory.ReadyClientAsync();
        using var form = Form(TestImages.Blank(40, 30), ("labels", "a"), ("labels", "b"), ("model", "tiny-clip-cas"));
        using var response = await client.PostAsync("/classify", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"model\":\"tiny-clip-cas\"", body, StringComparison.Ordinal);
    }
}
