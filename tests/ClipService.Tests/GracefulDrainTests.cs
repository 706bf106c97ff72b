using System.Net;
using System.Net.Sockets;
using ClipService.Hosting;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

/// <summary>SIGTERM drains the real process: readiness 503 while it still serves, then in-flight requests finish.</summary>
public sealed class GracefulDrainTests
{
    /// <summary>A classify upload whose second half is sent only when the test says so: a request in flight.</summary>
    private sealed class HeldUpload(byte[] body, string contentType) : HttpContent
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _firstHalfSent = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static async Task<HeldUpload> ClassifyAsync()
        {
            using var form = Form(TestImages.Shape("red", "circle"), ("labels", "red circle"), ("labels", "blue square"));
            var upload = new HeldUpload(await form.ReadAsByteArrayAsync(), form.Headers.ContentType!.ToString());
            upload.Headers.TryAddWithoutValidation("Content-Type", upload.ContentType);
            return upload;
        }

        private string ContentType { get; } = contentType;

        public Task FirstHalfSent => _firstHalfSent.Task;

        public void Release() => _release.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var half = body.Length / 2;
            await stream.WriteAsync(body.AsMemory(0, half));
            await stream.FlushAsync();
            _firstHalfSent.TrySetResult();
            await _release.Task;
            await stream.WriteAsync(body.AsMemory(half));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }

    /// <summary>A classify request whose upload has begun and is held: in flight on the server.</summary>
    private sealed class InFlightClassify : IDisposable
    {
        private readonly HttpClient _client;

        private InFlightClassify(HttpClient client, HeldUpload upload)
        {
            _client = client;
            Upload = upload;
            Response = client.PostAsync("/classify", upload);
        }

        public HeldUpload Upload { get; }

        public Task<HttpResponseMessage> Response { get; }

        public static async Task<InFlightClassify> StartAsync(Uri address)
        {
            var request = new InFlightClassify(new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) }, await HeldUpload.ClassifyAsync());
            await request.Upload.FirstHalfSent;
            return request;
        }

        public void Dispose()
        {
            Upload.Dispose();
            _client.Dispose();
        }
    }

    private static async Task<(ServiceProcess Service, Uri Address)> StartAsync(params string[] settings)
    {
        var port = ServiceProcess.FreePort();
        var service = ServiceProcess.Start(port, settings);
        var address = new Uri($"http://127.0.0.1:{port}");
        try
        {
            await service.WaitReadyAsync(address);
        }
        catch
        {
            // The caller never gets it to dispose: end the process here.
            await service.DisposeAsync();
            throw;
        }

        return (service, address);
    }

    private static async Task<HttpStatusCode> StatusOnANewConnectionAsync(Uri address, string path)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var response = await client.GetAsync(new Uri(address, path));
        return response.StatusCode;
    }

    private static async Task<bool> AcceptsConnectionsAsync(Uri address)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(address.Host, address.Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [Fact]
    public async Task After_SIGTERM_readiness_is_503_while_serving_then_in_flight_requests_finish_and_the_exit_code_is_0()
    {
        var (service, address) = await StartAsync("--Clip:Shutdown:DrainDelaySeconds=2", "--Clip:Shutdown:TimeoutSeconds=40");
        await using var _ = service;
        using var inFlight = await InFlightClassify.StartAsync(address);

        await service.TerminateAsync();
        // During the drain delay the listener still takes new connections: readiness says 503, liveness and work go on.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await StatusOnANewConnectionAsync(address, "/health/ready") != HttpStatusCode.ServiceUnavailable)
            Assert.True(DateTime.UtcNow < deadline, "readiness did not turn 503 after SIGTERM");
        Assert.Equal(HttpStatusCode.OK, await StatusOnANewConnectionAsync(address, "/health/live"));

        // After the delay no new connection is accepted, but the request in flight is still being served.
        deadline = DateTime.UtcNow.AddSeconds(10);
        while (await AcceptsConnectionsAsync(address))
        {
            Assert.True(DateTime.UtcNow < deadline, "the listener stayed open after the drain delay");
            await Task.Delay(50);
        }

        Assert.False(inFlight.Response.IsCompleted);
        inFlight.Upload.Release();
        using var response = await inFlight.Response;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"red circle\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(0, await service.ExitCodeAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("Drained: every request finished", service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_still_running_at_the_shutdown_timeout_is_aborted_and_the_exit_code_says_so()
    {
        var (service, address) = await StartAsync("--Clip:Shutdown:DrainDelaySeconds=0", "--Clip:Shutdown:TimeoutSeconds=2",
            "--Clip:Inference:RequestTimeoutSeconds=1");
        await using var _ = service;
        using var inFlight = await InFlightClassify.StartAsync(address);

        await service.TerminateAsync();
        Assert.Equal(GracefulDrain.AbortedExitCode, await service.ExitCodeAsync(TimeSpan.FromSeconds(30)));
        inFlight.Upload.Release();
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => inFlight.Response);
        Assert.Contains("Shutdown timeout: aborting 1 requests still running after 2 s", service.Output, StringComparison.Ordinal);
    }
}
