using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ClipService.Inference;
using ClipService.Limits;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

/// <summary>Slow and numerous clients against the service on a real Kestrel port, driven through raw sockets.</summary>
public sealed class ConnectionLimitsTests
{
    private static async Task<(ClipServiceFactory Factory, Uri Address)> StartOnKestrelAsync(Dictionary<string, string?> settings)
    {
        settings["Clip:ModelsPath"] = Path.Combine(ClipServiceFactory.TestModels, "tiny-clip");
        var factory = new ClipServiceFactory(settings);
        factory.UseKestrel(0);
        factory.StartServer();
        var address = new Uri(factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using var http = new HttpClient { BaseAddress = address };
        var deadline = Stopwatch.StartNew();
        while ((await http.GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "the service did not become ready");
            await Task.Delay(50);
        }

        return (factory, address);
    }

    private static async Task<Socket> ConnectAsync(Uri address)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, address.Port);
        return socket;
    }

    /// <summary>Reads until the server closes the connection (or resets it).</summary>
    private static async Task<string> ReadUntilClosedAsync(Socket socket, CancellationToken cancellationToken)
    {
        var received = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, cancellationToken)) > 0)
                received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        catch (SocketException)
        {
        }

        return received.ToString();
    }

    [Fact]
    public async Task A_body_trickled_below_the_minimum_rate_is_cut_off_with_408()
    {
        var (factory, address) = await StartOnKestrelAsync(new()
        {
            ["Clip:Connections:MinRequestBodyBytesPerSecond"] = "1000",
            ["Clip:Connections:MinRequestBodyGraceSeconds"] = "2",
        });
        await using var _ = factory;
        using var socket = await ConnectAsync(address);
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            "POST /classify HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n"));

        // 10 bytes every 200 ms: 50 B/s, a twentieth of the minimum; it would take 33 minutes to finish.
        var started = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var response = ReadUntilClosedAsync(socket, stop.Token);
        var sent = 0;
        while (!response.IsCompleted && !stop.IsCancellationRequested)
        {
            try
            {
                await socket.SendAsync(Encoding.ASCII.GetBytes("0123456789"), stop.Token);
                sent += 10;
            }
            catch (SocketException)
            {
                break;
            }

            await Task.WhenAny(response, Task.Delay(200, stop.Token));
        }

        var text = await response;
        var elapsed = started.Elapsed;
        Assert.StartsWith("HTTP/1.1 408", text, StringComparison.Ordinal);
        Assert.True(elapsed < TimeSpan.FromSeconds(8), $"cut off after {elapsed.TotalSeconds:F1} s and {sent} bytes");
    }

    [Fact]
    public async Task Connections_beyond_the_cap_are_closed_and_a_freed_slot_is_reused()
    {
        var (factory, address) = await StartOnKestrelAsync(new() { ["Clip:Connections:MaxConcurrentConnections"] = "2" });
        await using var _ = factory;
        var request = Encoding.ASCII.GetBytes("GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

        // Two idle connections (half a request line each) hold both slots.
        using var first = await ConnectAsync(address);
        using var second = await ConnectAsync(address);
        await first.SendAsync(Encoding.ASCII.GetBytes("GET /health"));
        await second.SendAsync(Encoding.ASCII.GetBytes("GET /health"));
        await Task.Delay(200);

        using (var third = await ConnectAsync(address))
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await third.SendAsync(request);
            }
            catch (SocketException)
            {
            }

            Assert.Equal("", await ReadUntilClosedAsync(third, stop.Token));
        }

        first.Close();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var next = await ConnectAsync(address);
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await next.SendAsync(request);
            var answer = await ReadUntilClosedAsync(next, stop.Token);
            if (answer.StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
                break;
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "the slot freed by closing a connection was not reused");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_request_past_its_deadline_gets_503_with_retry_after()
    {
        // Deadline: 2 s grace + 64 KiB at 64 KiB/s + 1 s allowance = 4 s; the encoder queue alone would wait 30 s.
        var (factory, address) = await StartOnKestrelAsync(new()
        {
            ["Clip:MaxRequestBytes"] = "65536",
            ["Clip:Connections:MinRequestBodyBytesPerSecond"] = "65536",
            ["Clip:Connections:MinRequestBodyGraceSeconds"] = "2",
            ["Clip:Connections:ProcessingAllowanceSeconds"] = "1",
            ["Clip:Inference:RequestTimeoutSeconds"] = "30",
        });
        await using var _ = factory;
        using var client = new HttpClient { BaseAddress = address };
        await using var held = await HeldGate.HoldAsync(factory.Services.GetRequiredService<InferenceGate>());

        var started = Stopwatch.StartNew();
        using var form = new MultipartFormDataContent { { new ByteArrayContent(TestImages.Shape("red", "circle", width: 64, height: 64)), "image", "shape.png" } };
        var response = await client.PostAsync("/embed/image", form);
        var elapsed = started.Elapsed;
        await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.True(response.Headers.RetryAfter is not null);
        Assert.InRange(elapsed.TotalSeconds, 3.5, 15);
    }

    [Fact]
    public void The_deadline_covers_the_largest_body_at_the_slowest_rate()
    {
        var options = new ConnectionLimitsOptions();
        // 20 MiB at 16 KiB/s is 1,280 s, plus 5 s of grace and 60 s for the work.
        Assert.Equal(TimeSpan.FromSeconds(1_345), options.RequestDeadline(20 * 1024 * 1024));
    }
}
