using System.Net;
using ClipService.Access;
using ClipService.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Serilog.Events;

namespace ClipService.Tests;

/// <summary>A key file that goes bad while the service runs never turns access control off (#24).</summary>
public sealed class AccessKeyFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("keys-").FullName;

    private string KeyFile => Path.Combine(_folder, "keys.txt");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private void Break(string fault)
    {
        switch (fault)
        {
            case "emptied":
                File.WriteAllText(KeyFile, "");
                break;
            case "garbled":
                File.WriteAllText(KeyFile, "# only malformed lines\nshort\nhas a space in it 0123456789\n");
                break;
            case "a directory":
                File.Delete(KeyFile);
                Directory.CreateDirectory(KeyFile);
                break;
            case "deleted":
                File.Delete(KeyFile);
                break;
        }
    }

    [Theory]
    [InlineData("emptied", "no_valid_key", "holds no valid key")]
    [InlineData("garbled", "no_valid_key", "holds no valid key (2 malformed line(s))")]
    [InlineData("a directory", "unreadable", "cannot be read")]
    [InlineData("deleted", "unreadable", "cannot be read")]
    public async Task A_key_file_that_goes_bad_keeps_the_keys_in_force_and_says_so_once_in_a_warning_and_a_metric(string fault, string reason, string expected)
    {
        File.WriteAllText(KeyFile, $"{TestKeys.A}\n");
        var log = new CapturedLog();
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?> { ["Clip:Auth:ApiKeysFile"] = KeyFile }, log.Register);
        using var client = await factory.ReadyClientAsync();
        using var failures = new MetricCollector<long>(factory.Services.GetRequiredService<ClipMetrics>().Meter, "clip.api_keys.reload_failures");

        Break(fault);
        var warning = Assert.Single(await log.WaitForAsync(LogEventLevel.Warning, "API key file refused"));
        Assert.Contains(expected, warning, StringComparison.Ordinal);
        Assert.Contains("keeping the 1 key(s) in force", warning, StringComparison.Ordinal);
        Assert.Equal(reason, Assert.Single(failures.GetMeasurementSnapshot()).Tags["reason"]);

        using (var anonymous = await client.GetAsync("/models"))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await TestKeys.StatusWithKeyAsync(client, TestKeys.A));
        Assert.Equal(HttpStatusCode.Unauthorized, await TestKeys.StatusWithKeyAsync(client, TestKeys.B));

        // A lasting fault is reported once, not at every poll.
        await Task.Delay(ApiKeyFileWatcher.PollInterval * 2.5);
        Assert.Single(log.Find(LogEventLevel.Warning, "API key file refused"));
        Assert.Single(failures.GetMeasurementSnapshot());

        // Mended, the file's new keys are taken.
        if (Directory.Exists(KeyFile))
            Directory.Delete(KeyFile);
        File.WriteAllText(KeyFile, $"{TestKeys.B}\n");
        var reloaded = await log.WaitForAsync(LogEventLevel.Information, "API keys reloaded");
        Assert.True(reloaded.Count == 1, string.Join("\n", log.Events.Select(e => e.Message)));
        Assert.Equal(HttpStatusCode.OK, await TestKeys.StatusWithKeyAsync(client, TestKeys.B));
        Assert.Equal(HttpStatusCode.Unauthorized, await TestKeys.StatusWithKeyAsync(client, TestKeys.A));
    }

    [Fact]
    public async Task With_no_key_configured_one_warning_at_start_says_every_client_is_let_in()
    {
        var log = new CapturedLog();
        await using var factory = new ClipServiceFactory(services: log.Register);
        using var client = await factory.ReadyClientAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/models")).StatusCode);
        Assert.Single(log.Find(LogEventLevel.Warning, "API keys are off: every client is let in"));
    }

    [Fact]
    public async Task With_a_key_configured_no_keys_off_warning_is_logged()
    {
        var log = new CapturedLog();
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?> { ["Clip:Auth:ApiKeys:0"] = TestKeys.A }, log.Register);
        using var client = await factory.ReadyClientAsync();
        Assert.Equal(HttpStatusCode.OK, await TestKeys.StatusWithKeyAsync(client, TestKeys.A));
        Assert.Empty(log.Find(LogEventLevel.Warning, "API keys are off"));
        Assert.NotEmpty(log.Events);
    }
}
