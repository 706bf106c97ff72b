using System.Net;
using ClipService.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

public sealed class RateLimitingTests
{
    [Fact]
    public async Task Beyond_the_permits_a_client_gets_429_with_retry_after_and_a_problem_but_probes_do_not()
    {
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?> { ["Clip:RateLimiting:PermitsPerMinute"] = "2" });
        using var client = await factory.ReadyClientAsync();
        for (var i = 0; i < 5; i++)
        {
            using var probe = await client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        }

        for (var i = 0; i < 2; i++)
        {
            using var allowed = await client.GetAsync("/models");
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var limited = await client.GetAsync("/models");
        Assert.Contains("PermitsPerMinute", await AssertProblemAsync(limited, HttpStatusCode.TooManyRequests), StringComparison.Ordinal);
        Assert.InRange(limited.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
    }

    [Fact]
    public async Task Retry_after_is_the_time_left_in_the_window_not_the_whole_window()
    {
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?> { ["Clip:RateLimiting:PermitsPerMinute"] = "1" });
        using var client = await factory.ReadyClientAsync();
        using (var allowed = await client.GetAsync("/models"))
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(3));

        using var limited = await client.GetAsync("/models");
        var detail = await AssertProblemAsync(limited, HttpStatusCode.TooManyRequests);
        var seconds = limited.Headers.RetryAfter!.Delta!.Value.TotalSeconds;
        Assert.InRange(seconds, 30, 57);
        Assert.Contains($"retry in {seconds} s", detail, StringComparison.Ordinal);
        using var again = await client.GetAsync("/models");
        Assert.InRange(again.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 30, seconds);
    }

    [Fact]
    public async Task Each_api_key_has_its_own_budget()
    {
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?>
        {
            ["Clip:RateLimiting:PermitsPerMinute"] = "1",
            ["Clip:Auth:ApiKeys:0"] = TestKeys.A,
            ["Clip:Auth:ApiKeys:1"] = TestKeys.B,
        });
        using var client = await factory.ReadyClientAsync();
        Assert.Equal(HttpStatusCode.OK, await TestKeys.StatusWithKeyAsync(client, TestKeys.A));
        Assert.Equal(HttpStatusCode.TooManyRequests, await TestKeys.StatusWithKeyAsync(client, TestKeys.A));
        Assert.Equal(HttpStatusCode.OK, await TestKeys.StatusWithKeyAsync(client, TestKeys.B));
    }

    [Fact]
    public void X_forwarded_for_counts_only_from_a_trusted_proxy()
    {
        var proxy = IPAddress.Parse("10.0.0.2");
        var trusted = new HashSet<IPAddress> { proxy };

        var direct = Request("203.0.113.9", "198.51.100.1");
        Assert.Equal("203.0.113.9", ClientAddress.Of(direct, trusted));

        var viaProxy = Request("10.0.0.2", "198.51.100.1, 203.0.113.7");
        Assert.Equal("203.0.113.7", ClientAddress.Of(viaProxy, trusted));

        // Trusted hops are skipped from the right; what the client wrote further left is not believed.
        var twoProxies = Request("10.0.0.2", "198.51.100.1, 203.0.113.7, 10.0.0.2");
        Assert.Equal("203.0.113.7", ClientAddress.Of(twoProxies, trusted));

        Assert.Equal("10.0.0.2", ClientAddress.Of(Request("10.0.0.2", null), trusted));
    }

    [Theory]
    [InlineData("203.0.113.7:5678", "203.0.113.7")]
    [InlineData("[2001:db8::7]:443", "2001:db8::7")]
    [InlineData("2001:db8::7", "2001:db8::7")]
    [InlineData("fe80::1%eth0", "fe80::1")]
    [InlineData("[fe80::1%eth0]:80", "fe80::1")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("\"203.0.113.7\"", "203.0.113.7")]
    [InlineData("junk", "10.0.0.2")]
    [InlineData("unknown", "10.0.0.2")]
    [InlineData("_hidden, 203.0.113.7", "203.0.113.7")]
    [InlineData("203.0.113.7, junk", "10.0.0.2")]
    public void A_forwarded_hop_loses_its_port_and_zone_and_one_that_is_no_address_falls_back_to_the_connection(string forwardedFor, string expected)
    {
        var trusted = new HashSet<IPAddress> { IPAddress.Parse("10.0.0.2") };
        Assert.Equal(expected, ClientAddress.Of(Request("10.0.0.2", forwardedFor), trusted));
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_that_appends_ports_one_client_shares_one_limit()
    {
        await using var factory = new ClipServiceFactory(
            new Dictionary<string, string?> { ["Clip:RateLimiting:PermitsPerMinute"] = "1", ["Clip:RateLimiting:TrustedProxies:0"] = "10.0.0.2" },
            services => services.AddTransient<IStartupFilter, FromProxy>());
        using var client = await factory.ReadyClientAsync();

        async Task<HttpStatusCode> FromAsync(string forwardedFor)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/models") { Headers = { { ClientAddress.ForwardedForHeader, forwardedFor } } };
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await FromAsync("203.0.113.7:40001"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await FromAsync("203.0.113.7:40002"));
        Assert.Equal(HttpStatusCode.OK, await FromAsync("198.51.100.9:40003"));
        // Garbage is not a fresh client each time: it is the proxy's own address, limited like any other.
        Assert.Equal(HttpStatusCode.OK, await FromAsync("junk-1"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await FromAsync("junk-2"));
    }

    /// <summary>Every request arrives from the proxy's address (the test server has no connection of its own).</summary>
    private sealed class FromProxy : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse("10.0.0.2");
                return nextMiddleware(context);
            });
            next(app);
        };
    }

    private static DefaultHttpContext Request(string peer, string? forwardedFor)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        if (forwardedFor is not null)
            context.Request.Headers[ClientAddress.ForwardedForHeader] = forwardedFor;
        return context;
    }

}
