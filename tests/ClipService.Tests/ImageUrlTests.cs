using System.ComponentModel.DataAnnotations;
using System.Net;
using ClipService.Admission;
using ClipService.ImageUrls;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using static ClipService.Tests.ClassifyBatchTests;
using static ClipService.Tests.EmbeddingsTests;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

/// <summary>Image URL inputs, fetched from a real HTTP server on loopback (allowed explicitly, as it is private).</summary>
public sealed class ImageUrlTests : IAsyncLifetime
{
    private static readonly byte[] Image = TestImages.Shape("red", "circle", seed: 90);
    private static readonly byte[] LargeImage = [.. Image, .. new byte[1_000_000]];
    private WebApplication _origin = null!;
    private int _flakyCalls;
    private int _largeInFlight;
    private int _largeMostInFlight;
    private int _largeServed; // downloads begun

    private string Origin => _origin.Urls.First();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _origin = builder.Build();
        _origin.MapGet("/red.png", () => Results.Bytes(Image, "image/png"));
        _origin.MapGet("/moved", () => Results.Redirect("/red.png"));
        _origin.MapGet("/elsewhere", (HttpContext context) => Results.Redirect($"http://localhost:{context.Connection.LocalPort}/red.png"));
        _origin.MapGet("/other-port", (HttpContext context) => Results.Redirect($"http://127.0.0.1:{context.Connection.LocalPort + 1}/red.png"));
        _origin.MapGet("/other-scheme", (HttpContext context) => Results.Redirect($"https://127.0.0.1:{context.Connection.LocalPort}/red.png"));
        _origin.MapGet("/page.html", () => Results.Text("<html></html>", "text/html"));
        _origin.MapGet("/large.png", () => Results.Bytes(new byte[400_000], "image/png"));
        _origin.MapGet("/large-unannounced.png", async (HttpContext context) =>
        {
            context.Response.ContentType = "image/png";
            for (var i = 0; i < 40; i++)
                await context.Response.Body.WriteAsync(new byte[10_000]);
        });
        _origin.MapGet("/slow.png", async (HttpContext context) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(60), context.RequestAborted);
            return Results.Bytes(Image, "image/png");
        });
        // A large image (a PNG with a megabyte after its end), sent slowly; the server counts downloads in flight.
        _origin.MapGet("/large/{n}.png", async (HttpContext context) =>
        {
            Interlocked.Increment(ref _largeServed);
            var inFlight = Interlocked.Increment(ref _largeInFlight);
            InterlockedMax(ref _largeMostInFlight, inFlight);
            try
            {
                context.Response.ContentType = "image/png";
                context.Response.ContentLength = LargeImage.Length;
                for (var offset = 0; offset < LargeImage.Length; offset += 128 * 1024)
                {
                    await Task.Delay(100, context.RequestAborted);
                    await context.Response.Body.WriteAsync(LargeImage.AsMemory(offset, Math.Min(128 * 1024, LargeImage.Length - offset)), context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _largeInFlight);
            }
        });
        _origin.MapGet("/flaky.png", () => Interlocked.Increment(ref _flakyCalls) == 1 ? Results.StatusCode(503) : Results.Bytes(Image, "image/png"));
        await _origin.StartAsync();
    }

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    private static ClipServiceFactory Service(bool allowPrivate = true, string maxBytes = "300000", string maxFetches = "16", string maxBytesInFlight = "268435456") =>
        new(new Dictionary<string, string?>
        {
            ["Clip:ImageUrls:Enabled"] = "true",
            ["Clip:ImageUrls:AllowedHosts:0"] = "127.0.0.1",
            ["Clip:ImageUrls:AllowPrivateNetworks"] = allowPrivate ? "true" : "false",
            ["Clip:ImageUrls:MaxBytes"] = maxBytes,
            ["Clip:ImageUrls:TimeoutSeconds"] = "5",
            ["Clip:ImageUrls:MaxConcurrentFetches"] = maxFetches,
            ["Clip:ImageUrls:MaxBytesInFlight"] = maxBytesInFlight,
        });

    private static void InterlockedMax(ref int location, int value)
    {
        for (var seen = Volatile.Read(ref location); value > seen; seen = Volatile.Read(ref location))
        {
            if (Interlocked.CompareExchange(ref location, value, seen) == seen)
                return;
        }
    }

    [Fact]
    public async Task A_burst_of_batches_of_large_urls_never_has_more_than_the_cap_in_flight_and_the_excess_gets_503_before_any_download()
    {
        await using var factory = Service(maxBytes: "2000000", maxFetches: "4", maxBytesInFlight: "16000000");
        using var client = await factory.ReadyClientAsync();
        const int requests = 8, urlsEach = 6;
        var burst = Enumerable.Range(0, requests).Select(r => client.PostAsJsonAsync("/classify/batch", new
        {
            images = Enumerable.Range(0, urlsEach).Select(i => $"{Origin}/large/{r * urlsEach + i}.png").ToArray(),
            labels = new[] { "red circle", "blue star" },
        })).ToList();
        // Meanwhile an upload, which downloads nothing, is served as usual.
        await Task.Delay(300);
        await Ok(await client.PostAsJsonAsync("/classify", new { image = Convert.ToBase64String(Image), labels = new[] { "red circle", "blue star" } }));

        var responses = await Task.WhenAll(burst);
        var ok = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.Equal(requests, ok + refused.Count);
        Assert.InRange(ok, 1, requests - 1);
        Assert.InRange(_largeMostInFlight, 1, 4);
        // A refused request downloaded nothing: every download served belongs to an answered request.
        Assert.Equal(ok * urlsEach, _largeServed);
        foreach (var response in refused)
        {
            Assert.NotNull(response.Headers.RetryAfter?.Delta);
            Assert.Contains("Clip:ImageUrls:MaxConcurrentFetches", await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable), StringComparison.Ordinal);
        }

        // Everything is given back once the requests are over.
        var budget = factory.Services.GetRequiredService<FetchBudget>();
        Assert.Equal((0, 0L), (budget.Fetches, budget.Bytes));
    }

    [Fact]
    public async Task Urls_whose_images_together_exceed_the_bytes_in_flight_get_413()
    {
        await using var factory = Service(maxBytes: "2000000", maxFetches: "4", maxBytesInFlight: "2500000");
        using var client = await factory.ReadyClientAsync();
        var detail = await AssertProblemAsync(await client.PostAsJsonAsync("/classify/batch", new
        {
            images = new[] { $"{Origin}/large/1.png", $"{Origin}/large/2.png", $"{Origin}/large/3.png" },
            labels = new[] { "red circle", "blue star" },
        }), HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("Clip:ImageUrls:MaxBytesInFlight", detail, StringComparison.Ordinal);
        var budget = factory.Services.GetRequiredService<FetchBudget>();
        Assert.Equal((0, 0L), (budget.Fetches, budget.Bytes));
    }

    [Fact]
    public async Task A_url_gives_the_same_embedding_and_ranking_as_the_upload_and_same_host_redirects_are_followed()
    {
        await using var factory = Service();
        using var client = await factory.ReadyClientAsync();
        using var form = Form(Image);
        var uploaded = Rows(await Ok(await client.PostAsync("/embed/image", form)));

        Assert.Equal(uploaded, Rows(await Ok(await client.PostAsJsonAsync("/embed/image", new { image = $"{Origin}/red.png" }))));
        Assert.Equal(uploaded, Rows(await Ok(await client.PostAsJsonAsync("/embed/image", new { image = $"{Origin}/moved" }))));
        var openAi = await Ok(await client.PostAsJsonAsync("/v1/embeddings", new { model = "clip-shapes", modality = "image", input = $"{Origin}/red.png" }));
        Assert.Equal(uploaded[0], openAi.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()));

        var batch = await Ok(await client.PostAsJsonAsync("/classify/batch",
            new { images = new[] { $"{Origin}/red.png", Convert.ToBase64String(Image) }, labels = new[] { "red circle", "blue star" } }));
        AssertSameRanking(batch.GetProperty("results")[1].GetProperty("labels"), batch.GetProperty("results")[0].GetProperty("labels"));
    }

    [Fact]
    public async Task A_transient_failure_of_the_origin_is_retried()
    {
        await using var factory = Service();
        using var client = await factory.ReadyClientAsync();
        await Ok(await client.PostAsJsonAsync("/embed/image", new { image = $"{Origin}/flaky.png" }));
        Assert.Equal(2, _flakyCalls);
    }

    [Theory]
    [InlineData("/elsewhere", HttpStatusCode.BadRequest, "same scheme, host and port")]
    [InlineData("/other-port", HttpStatusCode.BadRequest, "same scheme, host and port")]
    [InlineData("/other-scheme", HttpStatusCode.BadRequest, "redirects to https://127.0.0.1:")]
    [InlineData("/page.html", HttpStatusCode.UnsupportedMediaType, "text/html")]
    [InlineData("/large.png", HttpStatusCode.RequestEntityTooLarge, "Clip:ImageUrls:MaxBytes")]
    [InlineData("/large-unannounced.png", HttpStatusCode.RequestEntityTooLarge, "Clip:ImageUrls:MaxBytes")]
    [InlineData("/slow.png", HttpStatusCode.BadRequest, "within 5 s")]
    [InlineData("/missing.png", HttpStatusCode.BadRequest, "404")]
    public async Task Urls_that_break_the_rules_are_refused_with_the_reason(string path, HttpStatusCode status, string reason)
    {
        await using var factory = Service();
        using var client = await factory.ReadyClientAsync();
        var detail = await AssertProblemAsync(await client.PostAsJsonAsync("/embed/image", new { image = Origin + path }), status);
        Assert.Contains(reason, detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hosts_not_allowed_and_private_addresses_are_refused()
    {
        await using (var factory = Service())
        {
            using var client = await factory.ReadyClientAsync();
            var other = Origin.Replace("127.0.0.1", "localhost", StringComparison.Ordinal) + "/red.png";
            Assert.Contains("AllowedHosts", await AssertProblemAsync(await client.PostAsJsonAsync("/embed/image", new { image = other }), HttpStatusCode.BadRequest),
                StringComparison.Ordinal);
        }

        await using (var strict = Service(allowPrivate: false))
        {
            using var client = await strict.ReadyClientAsync();
            var detail = await AssertProblemAsync(await client.PostAsJsonAsync("/embed/image", new { image = $"{Origin}/red.png" }), HttpStatusCode.BadRequest);
            Assert.Contains("loopback, private or link-local", detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Urls_are_refused_unless_enabled()
    {
        await using var factory = new ClipServiceFactory();
        using var client = await factory.ReadyClientAsync();
        var detail = await AssertProblemAsync(await client.PostAsJsonAsync("/embed/image", new { image = $"{Origin}/red.png" }), HttpStatusCode.BadRequest);
        Assert.Contains("Clip:ImageUrls:Enabled", detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Enabling_urls_without_allowed_hosts_fails_validation()
    {
        static List<string> Problems(ImageUrlOptions options)
        {
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
            return [.. results.Select(r => r.ErrorMessage!)];
        }

        Assert.Empty(Problems(new ImageUrlOptions()));
        Assert.Contains(Problems(new ImageUrlOptions { Enabled = true }), p => p.Contains("AllowedHosts", StringComparison.Ordinal));
        Assert.Contains(Problems(new ImageUrlOptions { Enabled = true, AllowedHosts = ["http://example.com/"] }), p => p.Contains("host names only", StringComparison.Ordinal));
        Assert.Contains(Problems(new ImageUrlOptions { MaxBytes = 2_000_000, MaxBytesInFlight = 1_000_000 }), p => p.Contains("MaxBytesInFlight", StringComparison.Ordinal));
        Assert.Contains(Problems(new ImageUrlOptions { MaxConcurrentFetches = 0 }), p => p.Contains("MaxConcurrentFetches", StringComparison.Ordinal));
        Assert.Empty(Problems(new ImageUrlOptions { Enabled = true, AllowedHosts = ["images.example.com", "*.cdn.example.com"] }));
        var wildcard = new ImageUrlOptions { AllowedHosts = ["*.cdn.example.com"] };
        Assert.True(wildcard.IsAllowed("eu.cdn.example.com"));
        Assert.False(wildcard.IsAllowed("cdn.example.com.evil.org"));
        Assert.False(wildcard.IsAllowed("evilcdn.example.com"));
    }

    [Theory]
    [InlineData("8.8.8.8", true)]
    [InlineData("2606:4700::1111", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.20.0.1", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    public void Only_public_addresses_count_as_public(string address, bool isPublic) =>
        Assert.Equal(isPublic, NetworkAddresses.IsPublic(IPAddress.Parse(address)));

    public static TheoryData<string, string> RegistryBlocks()
    {
        var data = new TheoryData<string, string>();
        foreach (var block in SpecialPurposeAddresses.IPv4.Concat(SpecialPurposeAddresses.IPv6))
        {
            data.Add($"{block.Prefix}/{block.Length}", "first");
            data.Add($"{block.Prefix}/{block.Length}", "last");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RegistryBlocks))]
    public void Every_special_purpose_registry_block_is_not_public_from_its_first_to_its_last_address(string cidr, string end)
    {
        var block = SpecialPurposeAddresses.IPv4.Concat(SpecialPurposeAddresses.IPv6).Single(b => $"{b.Prefix}/{b.Length}" == cidr);
        var bytes = block.Prefix.GetAddressBytes();
        if (end == "last")
        {
            for (var bit = block.Length; bit < bytes.Length * 8; bit++)
                bytes[bit / 8] |= (byte)(0x80 >> (bit % 8));
        }

        var address = new IPAddress(bytes);
        // Blocks inside 2001::/23 that the registry marks globally reachable stay reachable; every other address is refused.
        var exempt = SpecialPurposeAddresses.IPv6GloballyReachable.Any(b => b.Contains(address));
        Assert.Equal(exempt, NetworkAddresses.IsPublic(address));
    }

    [Theory]
    [InlineData("198.18.0.1", false)]             // benchmarking
    [InlineData("198.19.255.254", false)]
    [InlineData("192.0.0.170", false)]            // NAT64 discovery
    [InlineData("192.0.2.10", false)]             // TEST-NET-1
    [InlineData("240.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("64:ff9b::7f00:1", false)]        // NAT64 of 127.0.0.1
    [InlineData("64:ff9b::a9fe:a9fe", false)]     // NAT64 of 169.254.169.254
    [InlineData("64:ff9b::808:808", true)]        // NAT64 of 8.8.8.8
    [InlineData("64:ff9b:1::a00:1", false)]       // local-use translation prefix
    [InlineData("2002:7f00:1::1", false)]         // 6to4 of 127.0.0.1
    [InlineData("2002:c0a8:101::1", false)]       // 6to4 of 192.168.1.1
    [InlineData("2002:808:808::1", true)]         // 6to4 of 8.8.8.8
    [InlineData("2001:0:4136:e378:8000:63bf:80ff:fffe", false)] // Teredo, client 127.0.0.1
    [InlineData("2001:0:7f00:1:8000:63bf:f7f7:f7f7", false)]    // Teredo, server 127.0.0.1
    [InlineData("2001:0:808:808:8000:63bf:f7f7:f7f7", true)]    // Teredo, server and client 8.8.8.8
    [InlineData("::7f00:1", false)]               // IPv4-compatible 127.0.0.1
    [InlineData("::808:808", true)]               // IPv4-compatible 8.8.8.8
    [InlineData("::ffff:0:7f00:1", false)]        // SIIT IPv4-translated 127.0.0.1
    [InlineData("::ffff:0:a00:1", false)]         // SIIT 10.0.0.1
    [InlineData("::ffff:10.0.0.1", false)]        // IPv4-mapped
    [InlineData("::ffff:8.8.8.8", true)]
    [InlineData("2001:db8::1", false)]
    [InlineData("2001:3::1", true)]               // AMT, globally reachable inside 2001::/23
    [InlineData("3fff::1", false)]
    [InlineData("5f00::1", false)]
    [InlineData("100::1", false)]
    [InlineData("fec0::1", false)]
    [InlineData("ff02::1", false)]
    public void Ipv4_carried_in_ipv6_is_unwrapped_and_checked_as_ipv4(string address, bool isPublic) =>
        Assert.Equal(isPublic, NetworkAddresses.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("198.18.0.1")]
    [InlineData("192.0.0.170")]
    public async Task A_url_to_a_special_purpose_address_is_refused(string host)
    {
        var url = $"http://{host}/red.png";
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?>
        {
            ["Clip:ImageUrls:Enabled"] = "true",
            ["Clip:ImageUrls:AllowedHosts:0"] = host,
            ["Clip:ImageUrls:TimeoutSeconds"] = "5",
        });
        using var client = await factory.ReadyClientAsync();
        var detail = await AssertProblemAsync(await client.PostAsJsonAsync("/embed/image", new { image = url }), HttpStatusCode.BadRequest);
        Assert.Contains("loopback, private or link-local", detail, StringComparison.Ordinal);
    }
}
