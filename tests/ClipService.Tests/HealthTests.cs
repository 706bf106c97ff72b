using System.Net;
using System.Text.Json;
using ClipService.Errors;
using ClipService.Inference;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

public sealed class HealthTests
{
    [Fact]
    public async Task A_dead_batch_worker_fails_liveness_and_readiness_naming_the_model()
    {
        await using var factory = new ClipServiceFactory();
        using var client = await factory.ReadyClientAsync();
        using (var form = Form(TestImages.Shape("red", "circle"), ("labels", "red circle")))
        using (var classified = await client.PostAsync("/classify", form))
            Assert.Equal(HttpStatusCode.OK, classified.StatusCode);
        using (var live = await client.GetAsync("/health/live"))
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);

        // With the encoder gate disposed, the worker's wait for it throws outside its per-batch error handling: it dies.
        var (model, batcher) = factory.Services.GetRequiredService<ImageBatchers>().Started.Single();
        factory.Services.GetRequiredService<InferenceGate>().Dispose();
        var doomed = batcher.EncodeAsync(TestImages.Shape("red", "circle"), TimeSpan.FromSeconds(10), CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (batcher.IsWorkerRunning && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.False(batcher.IsWorkerRunning);
        Assert.IsType<ObjectDisposedException>(batcher.WorkerFailure);
        // The request in the batch it was taking is not left waiting for its deadline.
        await Assert.ThrowsAsync<ServiceUnavailableException>(() => doomed.WaitAsync(TimeSpan.FromSeconds(5)));

        using var dead = await client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, dead.StatusCode);
        using var body = JsonDocument.Parse(await dead.Content.ReadAsStringAsync());
        Assert.Equal("Unhealthy", body.RootElement.GetProperty("status").GetString());
        Assert.Contains(model, body.RootElement.GetProperty("checks").GetProperty("batch-workers").GetProperty("description").GetString(), StringComparison.Ordinal);
        using var notReady = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        Assert.NotNull(notReady.Headers.RetryAfter);
    }

    [Fact]
    public async Task A_stopping_service_is_not_ready()
    {
        // Registered after the server, so stopped before it: while it holds, the host is stopping but still serves.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var factory = new ClipServiceFactory(services: services => services.AddHostedService(_ => new HeldShutdown(stopping, release.Task)));
        using var client = await factory.ReadyClientAsync();
        try
        {
            factory.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
            await stopping.Task.WaitAsync(TimeSpan.FromSeconds(10));

            using var ready = await client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            // A stop begins with the drain (#8): readiness says so while the listener still serves.
            Assert.Contains("draining before it stops", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            using var live = await client.GetAsync("/health/live");
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        finally
        {
            release.SetResult();
        }
    }

    private sealed class HeldShutdown(TaskCompletionSource stopping, Task release) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            stopping.TrySetResult();
            await release;
        }
    }

    [Fact]
    public async Task Readiness_reports_each_check()
    {
        await using var factory = new ClipServiceFactory();
        using var client = await factory.ReadyClientAsync();
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/health/ready"));
        var checks = doc.RootElement.GetProperty("checks");
        foreach (var name in new[] { "models", "not-stopping", "batch-workers" })
            Assert.Equal("Healthy", checks.GetProperty(name).GetProperty("status").GetString());
        Assert.Contains("warmed up", checks.GetProperty("models").GetProperty("description").GetString(), StringComparison.Ordinal);
    }
}
