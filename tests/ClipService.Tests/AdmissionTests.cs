using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

/// <summary>Requests that encode are admitted or refused before their bodies are read (real Kestrel, raw sockets, so
/// a body can be left unfinished).</summary>
public sealed class AdmissionTests
{
    private const string Boundary = "held";

    [Fact]
    public async Task A_request_beyond_the_models_capacity_gets_503_before_its_body_arrives()
    {
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?>
        {
            ["Clip:ModelsPath"] = Path.Combine(ClipServiceFactory.TestModels, "tiny-clip"),
            ["Clip:Admission:MaxRequestsPerModel"] = "1",
        });
        factory.UseKestrel(0);
        factory.StartServer();
        var address = new Uri(factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using var client = new HttpClient { BaseAddress = address };
        await WaitUntilReadyAsync(client);
        var gate = factory.Services.GetRequiredService<Admission.AdmissionGates>().For(null);

        using var first = await StartUnfinishedUploadAsync(address, "/classify");
        await WaitUntilAsync(() => gate.Inside == 1);
        using var second = await StartUnfinishedUploadAsync(address, "/embed/image");
        var refusal = await ReadResponseHeadAsync(second);
        Assert.StartsWith("HTTP/1.1 503", refusal, StringComparison.Ordinal);
        Assert.Contains("Retry-After:", refusal, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("application/problem+json", refusal, StringComparison.Ordinal);
        Assert.Equal(1, gate.Inside);

        // Texts count against the same gate: a list of texts is not tokenised either.
        using var third = await StartUnfinishedJsonAsync(address, "/embed/text");
        Assert.StartsWith("HTTP/1.1 503", await ReadResponseHeadAsync(third), StringComparison.Ordinal);
        // The OpenAI-compatible endpoint is refused in OpenAI's error shape (its model, named in the body, counts
        // against the default model's gate).
        using var fourth = await StartUnfinishedJsonAsync(address, "/v1/embeddings");
        var openAiRefusal = await ReadResponseHeadAsync(fourth);
        Assert.StartsWith("HTTP/1.1 503", openAiRefusal, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/json", openAiRefusal, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, gate.Inside);

        first.Dispose();
        await WaitUntilAsync(() => gate.Inside == 0);
        using var form = Form(TestImages.Shape("red", "circle"), ("labels", "cat"));
        using var after = await client.PostAsync("/classify", form);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public void A_ticket_given_back_twice_frees_one_place()
    {
        var gate = new Admission.AdmissionGate("m", 2);
        var ticket = gate.Enter();
        using var other = gate.Enter();
        Assert.Throws<Errors.ServiceUnavailableException>(() => gate.Enter());
        ticket.Dispose();
        ticket.Dispose();
        Assert.Equal(1, gate.Inside);
    }

    // Headers and the first form field of a 1 MB upload, and no more.
    private static async Task<Socket> StartUnfinishedUploadAsync(Uri address, string path)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, address.Port);
        var head = $"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary={Boundary}\r\n" +
            $"Content-Length: 1000000\r\n\r\n--{Boundary}\r\nContent-Disposition: form-data; name=\"labels\"\r\n\r\ncat\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head));
        return socket;
    }

    // Headers and the start of a 1 MB JSON body.
    private static async Task<Socket> StartUnfinishedJsonAsync(Uri address, string path)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, address.Port);
        var head = $"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
            "Content-Length: 1000000\r\n\r\n{\"texts\": [\"a cat\", ";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head));
        return socket;
    }

    private static async Task<string> ReadResponseHeadAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (!received.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await socket.ReceiveAsync(buffer, timeout.Token);
            if (read == 0)
                break;
            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return received.ToString();
    }

    private static async Task WaitUntilReadyAsync(HttpClient client)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await client.GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "the service did not become ready");
            await Task.Delay(50);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition was not reached within 30 s");
            await Task.Delay(10);
        }
    }
}
