using System.Diagnostics;
using System.Net;
using ClipService.Core.Models;
using ClipService.Errors;
using ClipService.Inference;
using ClipService.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

public sealed class LifecycleTests
{
    /// <summary>Delegates to the real inference but holds warm-up until the test lets it go.</summary>
    private sealed class HeldWarmUp(ClipInference inner, TaskCompletionSource release) : DelegatingClipInference(inner)
    {
        public override async Task WarmUpAsync(ClipModel model, CancellationToken cancellationToken)
        {
            await release.Task.WaitAsync(cancellationToken);
            await base.WarmUpAsync(model, cancellationToken);
        }
    }

    [Fact]
    public async Task Ready_is_503_with_retry_after_until_models_are_warm_then_200()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var factory = new ClipServiceFactory(services: services =>
        {
            services.RemoveAll<IClipInference>();
            services.AddSingleton<IClipInference>(sp => new HeldWarmUp(sp.GetRequiredService<ClipInference>(), release));
        });
        using var client = factory.CreateClient();

        using (var live = await client.GetAsync("/health/live"))
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using (var notReady = await client.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            Assert.True(notReady.Headers.RetryAfter is not null);
        }

        using (var form = Form(TestImages.Shape("red", "circle"), ("labels", "red circle")))
        {
            var response = await client.PostAsync("/classify", form);
            await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
            Assert.True(response.Headers.RetryAfter is not null);
        }

        release.SetResult();
        using var ready = await factory.ReadyClientAsync();
        using var after = await ready.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task A_full_queue_answers_503_with_retry_after_at_once()
    {
        var gate = new InferenceGate(Options.Create(new InferenceOptions { MaxConcurrentRuns = 1, MaxQueuedRequests = 0 }));
        var held = await HeldGate.HoldAsync(gate);

        var started = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<ServiceUnavailableException>(() => gate.RunAsync(() => 2, CancellationToken.None));
        Assert.True(started.ElapsedMilliseconds < 1000);
        Assert.True(e.RetryAfter > TimeSpan.Zero);

        await held.DisposeAsync();
        Assert.Equal(3, await gate.RunAsync(() => 3, CancellationToken.None));
    }

    [Fact]
    public async Task A_request_that_waits_past_its_deadline_gets_503()
    {
        var gate = new InferenceGate(Options.Create(new InferenceOptions { MaxConcurrentRuns = 1, MaxQueuedRequests = 4, RequestTimeoutSeconds = 1 }));
        await using var held = await HeldGate.HoldAsync(gate);
        await Assert.ThrowsAsync<ServiceUnavailableException>(() => gate.RunAsync(() => 2, CancellationToken.None));
    }

    [Fact]
    public async Task A_cancelled_waiter_leaves_the_queue_without_running()
    {
        var gate = new InferenceGate(Options.Create(new InferenceOptions { MaxConcurrentRuns = 1, MaxQueuedRequests = 4 }));
        var held = await HeldGate.HoldAsync(gate);
        using var cancel = new CancellationTokenSource();
        var ran = false;
        var waiter = gate.RunAsync(() => ran = true, cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter);
        await held.DisposeAsync();
        Assert.False(ran);
        Assert.Equal(0, gate.InFlight);
    }

    [Fact]
    public void A_models_path_without_models_is_refused_naming_it()
    {
        var empty = Directory.CreateTempSubdirectory("no-models-").FullName;
        try
        {
            var e = Assert.Throws<ModelFolderException>(() => ModelCatalog.Discover(new ModelOptions { ModelsPath = empty }, empty));
            Assert.Contains(empty, e.Message, StringComparison.Ordinal);
            Assert.Contains("holds no model folders", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Fact]
    public void A_relative_models_path_is_found_from_a_folder_below_it()
    {
        // As under `dotnet run --project src/ClipService`, whose working directory is the project folder.
        var catalog = ModelCatalog.Discover(new ModelOptions { ModelsPath = "tests/assets/models", DefaultModel = "tiny-clip" },
            Path.Combine(ClipServiceFactory.RepositoryRoot, "src", "ClipService"));
        Assert.Equal(Path.Combine(ClipServiceFactory.RepositoryRoot, "tests", "assets", "models"), catalog.ModelsPath);
        Assert.Equal(2, catalog.Folders.Count);
    }

    [Theory]
    [InlineData("--Clip:ModelsPath=/definitely/not/here", "does not exist")]
    [InlineData("--Clip:ExecutionProvider:Provider=Gpu", "Clip:ExecutionProvider:Provider")]
    [InlineData("--Clip:MaxLabels=0", "MaxLabels")]
    [InlineData("--Clip:DefaultModel=missing", "Clip:DefaultModel 'missing'")]
    [InlineData("--Clip:EnableDemoPage=sometimes", "Clip:EnableDemoPage")]
    [InlineData("--Clip:ImageDecoding:MaxPixels=0", "Clip:ImageDecoding:MaxPixels must be between")]
    [InlineData("--Clip:ExecutionProvider:IntraOpThreads=-5", "Clip:ExecutionProvider:IntraOpThreads must be between")]
    [InlineData("--Clip:Batching:MaxBatchSize=-1", "Clip:Batching:MaxBatchSize must be between")]
    [InlineData("--Clip:MaxRequestBytes=5", "Clip:MaxRequestBytes must be between")]
    [InlineData("--Clip:Auth:ApiKeys:0=short", "Clip:Auth:ApiKeys: every key must be at least 16 characters")]
    [InlineData("--Clip:Auth:ApiKeysFile=/definitely/not/here", "Clip:Auth:ApiKeysFile: the file '/definitely/not/here' does not exist")]
    [InlineData("--Clip:RateLimiting:PermitsPerMinute=-1", "Clip:RateLimiting:PermitsPerMinute must be between")]
    [InlineData("--Clip:RateLimiting:TrustedProxies:0=haproxy", "Clip:RateLimiting:TrustedProxies: 'haproxy' is not an IP address")]
    [InlineData("--Clip:Cors:AllowedOrigins:0=https://app.example.com/path", "Clip:Cors:AllowedOrigins: 'https://app.example.com/path' is not an origin")]
    [InlineData("--Clip:Metrics:RequireApiKey=maybe", "Clip:Metrics:RequireApiKey")]
    [InlineData("--Clip:MaxImagesPerRequest=0", "Clip:MaxImagesPerRequest must be between")]
    [InlineData("--Clip:MaxLabelsPerSet=0", "Clip:MaxLabelsPerSet must be between")]
    [InlineData("--Clip:ImageDecoding:MaxConcurrentDecodes=-1", "Clip:ImageDecoding:MaxConcurrentDecodes must be between")]
    [InlineData("--Clip:ImageUrls:TimeoutSeconds=0", "Clip:ImageUrls:TimeoutSeconds must be between")]
    [InlineData("--Clip:ImageUrls:Enabled=true", "AllowedHosts must name at least one host")]
    [InlineData("--Clip:Shutdown:TimeoutSeconds=30", "Clip:Shutdown:TimeoutSeconds (30) must be longer than Clip:Inference:RequestTimeoutSeconds (30)")]
    [InlineData("--Clip:Shutdown:DrainDelaySeconds=-1", "DrainDelaySeconds")]
    public async Task The_process_exits_with_one_clear_line_for_bad_configuration(string argument, string expected)
    {
        await using var service = ServiceProcess.Launch([argument, "--urls=http://127.0.0.1:0"]);

        Assert.Equal(1, await service.ExitCodeAsync(TimeSpan.FromSeconds(60)));
        var line = Assert.Single(service.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("ClipService cannot start: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", service.Output, StringComparison.Ordinal);
    }
}
