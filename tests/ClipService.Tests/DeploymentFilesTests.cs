using System.Net;
using System.Text.RegularExpressions;
using ClipService.Hosting;
using YamlDotNet.RepresentationModel;
using static ClipService.Tests.DeploymentFiles;

namespace ClipService.Tests;

/// <summary>The Dockerfile, docker-compose.yml and the load balancer's config agree with the app they run.</summary>
public sealed partial class DeploymentFilesTests(DefaultService service) : IClassFixture<DefaultService>
{
    private static readonly string[] FinalStages = ["cpu", "cuda"];

    private static IReadOnlyList<string> Stage(string name) => DockerStages().Single(s => s.Name == name).Instructions;

    private static int ImagePort()
    {
        var port = Env(Stage("cpu"), "ASPNETCORE_HTTP_PORTS");
        Assert.NotNull(port);
        return int.Parse(port, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static YamlMappingNode Compose() => YamlDocuments(Read("docker-compose.yml")).Single();

    [Fact]
    public void The_default_target_is_the_cpu_image_on_a_runtime_base_with_no_shell_step()
    {
        var stages = DockerStages();
        Assert.Equal("cpu", stages[^1].Name);
        Assert.Equal("${RUNTIME_IMAGE}", stages[^1].From);
        Assert.DoesNotContain(stages[^1].Instructions, i => i.StartsWith("RUN ", StringComparison.Ordinal));
        Assert.Contains(stages[^1].Instructions, i => i.StartsWith("COPY --from=publish-cpu ", StringComparison.Ordinal));
        Assert.Equal("Cuda", Env(stages.Single(s => s.Name == "cuda").Instructions, "Clip__ExecutionProvider__Provider"));
        Assert.Contains(stages.Single(s => s.Name == "cuda").Instructions, i => i.StartsWith("COPY --from=publish-cuda ", StringComparison.Ordinal));
        Assert.Contains(stages.Single(s => s.Name == "publish-cpu").Instructions, i => i.Contains("-p:OnnxRuntimeFlavor=Cpu", StringComparison.Ordinal));
        Assert.Contains(stages.Single(s => s.Name == "publish-cuda").Instructions, i => i.Contains("-p:OnnxRuntimeFlavor=Cuda", StringComparison.Ordinal));
        var core = Read("src", "ClipService.Core", "ClipService.Core.csproj");
        Assert.Contains("Include=\"Microsoft.ML.OnnxRuntime\" Condition=\"'$(OnnxRuntimeFlavor)' == 'Cpu'\"", core, StringComparison.Ordinal);
        Assert.Contains("Include=\"Microsoft.ML.OnnxRuntime.Gpu.Linux\" Condition=\"'$(OnnxRuntimeFlavor)' == 'Cuda'\"", core, StringComparison.Ordinal);
        Assert.Equal("${SDK_IMAGE}", stages[0].From);
        var dockerfile = Read("Dockerfile");
        Assert.Matches(@"(?m)^ARG SDK_IMAGE=mcr\.microsoft\.com/dotnet/sdk:10\.0-noble(@sha256:[0-9a-f]{64})?$", dockerfile);
        Assert.Matches(@"(?m)^ARG RUNTIME_IMAGE=mcr\.microsoft\.com/dotnet/aspnet:10\.0\S*$", dockerfile);
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("cuda")]
    public void Each_image_runs_non_root_in_production_with_json_logs_the_default_model_and_a_healthcheck_by_the_binary(string stage)
    {
        var instructions = Stage(stage);
        Assert.Contains(instructions, i => UserLine().IsMatch(i));
        Assert.Equal("Production", Env(instructions, "ASPNETCORE_ENVIRONMENT"));
        Assert.Equal("true", Env(instructions, "Logging__Json"));
        Assert.Equal("/app/models", Env(instructions, "Clip__ModelsPath"));
        Assert.Contains("COPY models/clip-shapes/ ./models/clip-shapes/", instructions);
        Assert.Contains("WORKDIR /app", instructions);
        Assert.Contains($"EXPOSE {Env(instructions, "ASPNETCORE_HTTP_PORTS")}", instructions);
        var healthcheck = Assert.Single(instructions, i => i.StartsWith("HEALTHCHECK ", StringComparison.Ordinal));
        Assert.EndsWith($"CMD [\"dotnet\", \"/app/ClipService.dll\", \"{HealthcheckCommand.Name}\"]", healthcheck, StringComparison.Ordinal);
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"/app/ClipService.dll\"]", instructions);
        Assert.Contains(instructions, i => i.Contains("org.opencontainers.image.revision=", StringComparison.Ordinal));
        Assert.DoesNotContain(instructions, i => i.Contains("ASPNETCORE_URLS", StringComparison.Ordinal));
        Assert.True(Directory.Exists(Path.Combine(ClipServiceFactory.RepositoryRoot, "models", "clip-shapes", "onnx")));
    }

    [Fact]
    public void Compose_and_haproxy_agree_with_the_image_port_and_each_other()
    {
        var port = ImagePort();
        Assert.All(FinalStages, s => Assert.Equal($"{port}", Env(Stage(s), "ASPNETCORE_HTTP_PORTS")));
        var compose = Compose();
        Assert.Contains(compose.Items("services", "clip", "expose"), e => ((YamlScalarNode)e).Value == $"{port}");
        var haproxy = Read("deploy", "haproxy.cfg");
        Assert.Matches($@"(?m)^\s+server-template clip- \S+ clip:{port}$", haproxy);
        var published = compose.Items("services", "lb", "ports").Select(p => ((YamlScalarNode)p).Value!.Split(':')[1]).ToList();
        foreach (Match bind in BindLine().Matches(haproxy))
            Assert.Contains(bind.Groups[1].Value, published);
        Assert.Equal(2, published.Count);
    }

    [Fact]
    public void Haproxy_bounds_waits_queues_and_per_replica_load_and_exports_metrics()
    {
        var haproxy = Read("deploy", "haproxy.cfg");
        Assert.Matches(@"(?m)^\s+timeout http-request \d+s$", haproxy);
        Assert.Matches(@"(?m)^\s+timeout queue \d+s$", haproxy);
        Assert.Matches(@"(?m)^\s+option forwardfor$", haproxy);
        Assert.Matches(@"(?m)^\s+default-server .*\bmaxconn \d+\b", haproxy);
        Assert.Matches(@"(?m)^\s+http-request use-service prometheus-exporter if \{ path /metrics \}$", haproxy);
        Assert.Matches(@"(?m)^\s+option httpchk GET /health/ready$", haproxy);
        // The balancer's server timeout outlasts the replicas' own request deadline, which answers 503 first.
        var serverTimeout = int.Parse(Regex.Match(haproxy, @"(?m)^\s+timeout server (\d+)s$").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(serverTimeout > Inference.InferenceOptions.DefaultRequestTimeoutSeconds);
    }

    [Fact]
    public void Compose_gives_each_replica_its_cpu_share_as_onnx_threads_and_a_stop_grace_period_past_the_drain()
    {
        var clip = Compose().At("services", "clip")!;
        var environment = (YamlMappingNode)clip.At("environment")!;
        var setting = (string name) => environment.Text(name);
        Assert.All(environment.Children.Keys.Select(k => ((YamlScalarNode)k).Value!), name => Assert.Contains(name, SettingNames()));
        Assert.Equal(clip.Text("deploy", "resources", "limits", "cpus"), setting("Clip__ExecutionProvider__IntraOpThreads"));
        var drain = Seconds(setting("Clip__Shutdown__DrainDelaySeconds"), ShutdownOptions.DefaultDrainDelaySeconds)
            + Seconds(setting("Clip__Shutdown__TimeoutSeconds"), ShutdownOptions.DefaultTimeoutSeconds);
        Assert.True(Seconds(clip.Text("stop_grace_period"), 10) > drain, $"stop_grace_period must exceed {drain} s");
        Assert.Equal("true", clip.Text("read_only"));
        Assert.Contains(clip.Items("tmpfs"), t => ((YamlScalarNode)t).Value == "/tmp");
        Assert.Equal("cpu", clip.Text("build", "target"));
        var gpu = YamlDocuments(Read("deploy", "docker-compose.gpu.yml")).Single().At("services", "clip")!;
        Assert.Equal("cuda", gpu.Text("build", "target"));
    }

    [Fact]
    public async Task Every_health_path_the_deployment_probes_is_served_and_healthy()
    {
        var probed = new List<string> { HealthcheckCommand.LivenessPath };
        probed.AddRange(HealthPath().Matches(Read("deploy", "haproxy.cfg")).Select(m => m.Value));
        Assert.Contains("/health/ready", probed);
        foreach (var path in probed.Distinct())
        {
            using var response = await service.Client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {(int)response.StatusCode}");
        }
    }

    [GeneratedRegex(@"(?m)^\s+bind :(\d+)$")]
    private static partial Regex BindLine();

    [GeneratedRegex(@"/health/[a-z]+")]
    private static partial Regex HealthPath();

    [GeneratedRegex(@"^USER [1-9][0-9]*$")]
    private static partial Regex UserLine();
}
