using System.Net;
using System.Text.RegularExpressions;

namespace ClipService.Tests;

/// <summary>The Dockerfile, docker-compose.yml and the load balancer's config agree with the app they run.</summary>
public sealed partial class DeploymentFilesTests(DefaultService service) : IClassFixture<DefaultService>
{
    private static string Read(params string[] path) => File.ReadAllText(Path.Combine([ClipServiceFactory.RepositoryRoot, .. path]));

    [Fact]
    public void The_container_listens_on_the_port_it_exposes_and_the_balancer_targets()
    {
        var dockerfile = Read("Dockerfile");
        var exposed = int.Parse(ExposeLine().Match(dockerfile).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"ASPNETCORE_URLS=http://+:{exposed}", dockerfile, StringComparison.Ordinal);

        var compose = Read("docker-compose.yml");
        Assert.Contains($"- \"{exposed}\"", compose, StringComparison.Ordinal);
        Assert.Matches(LbPortLine(), compose);
        var haproxy = Read("deploy", "haproxy.cfg");
        Assert.Contains($"clip:{exposed}", haproxy, StringComparison.Ordinal);
        var bind = BindLine().Match(haproxy).Groups[1].Value;
        Assert.Contains($":{bind}\"", compose, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_health_path_the_deployment_probes_is_served_and_healthy()
    {
        var probed = new List<string>();
        probed.AddRange(HealthPath().Matches(Read("Dockerfile")).Select(m => m.Value));
        probed.AddRange(HealthPath().Matches(Read("docker-compose.yml")).Select(m => m.Value));
        probed.AddRange(HealthPath().Matches(Read("deploy", "haproxy.cfg")).Select(m => m.Value));

        Assert.Contains("/health/live", probed);
        Assert.Contains("/health/ready", probed);
        Assert.Contains("/health/ready", HealthPath().Matches(Read("deploy", "haproxy.cfg")).Select(m => m.Value));
        foreach (var path in probed.Distinct())
        {
            using var response = await service.Client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {(int)response.StatusCode}");
        }
    }

    [Fact]
    public void The_image_carries_the_default_model_and_runs_as_non_root()
    {
        var dockerfile = Read("Dockerfile");
        Assert.Contains("COPY models/clip-shapes/", dockerfile, StringComparison.Ordinal);
        Assert.Contains("Clip__ModelsPath=/app/models", dockerfile, StringComparison.Ordinal);
        Assert.Matches(UserLine(), dockerfile);
        Assert.True(Directory.Exists(Path.Combine(ClipServiceFactory.RepositoryRoot, "models", "clip-shapes", "onnx")));
    }

    [GeneratedRegex(@"^EXPOSE (\d+)", RegexOptions.Multiline)]
    private static partial Regex ExposeLine();

    [GeneratedRegex(@"^\s+bind :(\d+)", RegexOptions.Multiline)]
    private static partial Regex BindLine();

    [GeneratedRegex("- \"\\d+:\\d+\"")]
    private static partial Regex LbPortLine();

    [GeneratedRegex(@"/health/[a-z]+")]
    private static partial Regex HealthPath();

    [GeneratedRegex(@"^USER (?!0\b|root\b)\S+", RegexOptions.Multiline)]
    private static partial Regex UserLine();
}
