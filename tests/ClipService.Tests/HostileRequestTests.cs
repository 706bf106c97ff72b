using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

/// <summary>Malformed requests the framework itself rejects: each gets its 4xx ProblemDetails, never a 500.</summary>
public sealed class HostileRequestTests(DefaultService service) : IClassFixture<DefaultService>
{
    private HttpClient Client => service.Client;

    private static ByteArrayContent Raw(string body, string contentType)
    {
        var content = new ByteArrayContent(Encoding.ASCII.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    public static TheoryData<string, string, string, HttpStatusCode, string> MalformedBodies() => new()
    {
        { "/classify", "multipart/form-data; boundary=xyz", "this is not multipart at all", HttpStatusCode.BadRequest, "closing boundary" },
        { "/classify", "multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"labels\"\r\n\r\ncat\r\n", HttpStatusCode.BadRequest, "closing boundary" },
        { "/embed/image", "multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\n\x89PNG", HttpStatusCode.BadRequest, "closing boundary" },
        { "/classify", "multipart/form-data; boundary=" + new string('b', 200), "--" + new string('b', 200) + "--\r\n", HttpStatusCode.BadRequest, "boundary length limit" },
        { "/classify", "multipart/form-data; boundary=xyz", "--xyz\r\nX-Long: " + new string('h', 100_000) + "\r\n\r\ncat\r\n--xyz--\r\n", HttpStatusCode.BadRequest, "limit" },
        { "/classify", "application/json; charset=bogus", "{\"labels\":[\"cat\"]}", HttpStatusCode.UnsupportedMediaType, "bogus" },
        { "/embed/text", "application/json; charset=bogus", "{\"texts\":[\"cat\"]}", HttpStatusCode.UnsupportedMediaType, "bogus" },
        { "/classify", "multipart/form-data; boundary=xyz", string.Concat(Enumerable.Range(0, 2000).Select(i => $"--xyz\r\nContent-Disposition: form-data; name=\"labels\"\r\n\r\nl{i}\r\n")) + "--xyz--\r\n", HttpStatusCode.BadRequest, "count limit" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task A_malformed_body_gets_its_4xx_not_500_nor_a_false_413(string path, string contentType, string body, HttpStatusCode status, string expected)
    {
        using var response = await Client.PostAsync(path, Raw(body, contentType));
        var detail = await AssertProblemAsync(response, status);
        Assert.Contains(expected, detail, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("MaxRequestBytes", detail, StringComparison.Ordinal);
        Assert.True(detail.Length < 400, $"detail echoes too much: {detail.Length} characters");
        using var live = await Client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task Mutated_and_truncated_images_get_200_or_a_4xx_problem_and_the_service_stays_live()
    {
        var random = new Random(13);
        foreach (var name in new[] { "photo.jpg", "transparent.png", "lossy.webp", "palette.gif", "bitmap.bmp" })
        {
            var whole = await File.ReadAllBytesAsync(Path.Combine(ClipServiceFactory.RepositoryRoot, "tests", "assets", "images", name));
            for (var i = 0; i < 8; i++)
            {
                var mutated = i < 2 ? whole[..(whole.Length * (i + 1) / 3)] : (byte[])whole.Clone();
                for (var c = 0; i >= 2 && c < 1 + random.Next(8); c++)
                    mutated[8 + random.Next(mutated.Length - 8)] = (byte)random.Next(256);
                using var form = Form(mutated);
                var watch = Stopwatch.StartNew();
                using var response = await Client.PostAsync("/embed/image", form);
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"{name} #{i} took {watch.Elapsed}");
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Assert.InRange((int)response.StatusCode, 400, 499);
                    Assert.InRange((await AssertProblemAsync(response, response.StatusCode)).Length, 1, 400);
                }
                Assert.True(i >= 2 || response.StatusCode == HttpStatusCode.BadRequest, $"{name} truncated to {mutated.Length} bytes was accepted");
            }

            using var live = await Client.GetAsync("/health/live");
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
    }

    [Fact]
    public async Task An_impossible_chunk_size_gets_400()
    {
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?>
        {
            ["Clip:ModelsPath"] = Path.Combine(ClipServiceFactory.TestModels, "tiny-clip"),
        });
        factory.UseKestrel(0);
        factory.StartServer();
        var address = new Uri(factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, address.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            "POST /classify HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=xyz\r\n" +
            "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n--xyz\r\n"));
        var watch = Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var received = new StringBuilder();
        var buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, timeout.Token)) > 0)
            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        Assert.StartsWith("HTTP/1.1 400", received.ToString(), StringComparison.Ordinal);
        Assert.Contains("chunk", received.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30));
    }
}
