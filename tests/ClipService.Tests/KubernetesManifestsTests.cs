using System.Diagnostics;
using System.Net;
using ClipService.Hosting;
using ClipService.ModelFetching;
using YamlDotNet.RepresentationModel;
using static ClipService.Tests.DeploymentFiles;

namespace ClipService.Tests;

/// <summary>deploy/kubernetes rendered by the real kustomize (kubectl kustomize) agrees with the image and the app.</summary>
public sealed class KubernetesManifestsTests(DefaultService running) : IClassFixture<DefaultService>
{
    private static async Task<IReadOnlyList<YamlMappingNode>> RenderAsync(string overlay)
    {
        var start = new ProcessStartInfo("kubectl", ["kustomize", Path.Combine(ClipServiceFactory.RepositoryRoot, "deploy", "kubernetes", overlay)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var kubectl = Process.Start(start)!;
        var stdout = kubectl.StandardOutput.ReadToEndAsync();
        var stderr = kubectl.StandardError.ReadToEndAsync();
        await kubectl.WaitForExitAsync();
        Assert.True(kubectl.ExitCode == 0, await stderr);
        return YamlDocuments(await stdout);
    }

    private static YamlMappingNode Single(IReadOnlyList<YamlMappingNode> documents, string kind) =>
        Assert.Single(documents, d => d.Text("kind") == kind);

    private static YamlNode Container(YamlNode deployment, string list, string name) =>
        Assert.Single(deployment.Items("spec", "template", "spec", list), c => c.Text("name") == name);

    private static Dictionary<string, string> EnvironmentOf(YamlNode container) =>
        container.Items("env").ToDictionary(e => e.Text("name")!, e => e.Text("value")!);

    [RequiresTools("kubectl")]
    public async Task The_deployment_probes_serves_and_runs_as_the_image_and_app_expect()
    {
        var documents = await RenderAsync("base");
        var deployment = Single(documents, "Deployment");
        var app = Container(deployment, "containers", "clipservice");
        var imagePort = Env(DockerStages().Single(s => s.Name == "cpu").Instructions, "ASPNETCORE_HTTP_PORTS");

        var port = Assert.Single(app.Items("ports"));
        Assert.Equal(imagePort, port.Text("containerPort"));
        var service = Single(documents, "Service");
        Assert.Equal(port.Text("name"), Assert.Single(service.Items("spec", "ports")).Text("targetPort"));

        Assert.Equal(HealthcheckCommand.LivenessPath, app.Text("startupProbe", "httpGet", "path"));
        Assert.Equal(HealthcheckCommand.LivenessPath, app.Text("livenessProbe", "httpGet", "path"));
        Assert.Equal("/health/ready", app.Text("readinessProbe", "httpGet", "path"));
        foreach (var probe in new[] { "startupProbe", "livenessProbe", "readinessProbe" })
        {
            Assert.Equal(port.Text("name"), app.Text(probe, "httpGet", "port"));
            using var response = await running.Client.GetAsync(app.Text(probe, "httpGet", "path"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Every setting the manifests pass is one the app reads.
        var env = EnvironmentOf(app);
        Assert.All(env.Keys, name => Assert.Contains(name, SettingNames()));
        Assert.Equal(app.Text("resources", "limits", "cpu"), env["Clip__ExecutionProvider__IntraOpThreads"]);
        var drain = Seconds(env.GetValueOrDefault("Clip__Shutdown__DrainDelaySeconds"), ShutdownOptions.DefaultDrainDelaySeconds)
            + Seconds(env.GetValueOrDefault("Clip__Shutdown__TimeoutSeconds"), ShutdownOptions.DefaultTimeoutSeconds);
        Assert.True(int.Parse(deployment.Text("spec", "template", "spec", "terminationGracePeriodSeconds")!, System.Globalization.CultureInfo.InvariantCulture) > drain);
        Assert.True(int.Parse(env["Clip__Shutdown__TimeoutSeconds"], System.Globalization.CultureInfo.InvariantCulture) > Inference.InferenceOptions.DefaultRequestTimeoutSeconds);

        // Non-root as the image's own numeric user, on a read-only root with /tmp writable.
        var user = DockerStages().Single(s => s.Name == "cpu").Instructions.Single(i => i.StartsWith("USER ", StringComparison.Ordinal))[5..];
        var pod = deployment.At("spec", "template", "spec")!;
        Assert.Equal(user, pod.Text("securityContext", "runAsUser"));
        Assert.Equal("true", pod.Text("securityContext", "runAsNonRoot"));
        Assert.Equal("true", app.Text("securityContext", "readOnlyRootFilesystem"));
        Assert.Contains(app.Items("volumeMounts"), m => m.Text("mountPath") == "/tmp");

        // The init container fills the model volume with the image's fetch-model command, where the app reads models.
        var init = Container(deployment, "initContainers", "fetch-model");
        var args = init.Items("args").Select(a => ((YamlScalarNode)a).Value).ToList();
        Assert.Equal(FetchModelCommand.Name, args[0]);
        var modelsPath = args[args.IndexOf("--models-path") + 1];
        Assert.Equal(modelsPath, env["Clip__ModelsPath"]);
        Assert.Equal(app.Text("image"), init.Text("image"));
        Assert.Equal("true", init.Text("securityContext", "readOnlyRootFilesystem"));
        var volume = Assert.Single(app.Items("volumeMounts"), m => m.Text("mountPath") == modelsPath).Text("name");
        Assert.Contains(init.Items("volumeMounts"), m => m.Text("mountPath") == modelsPath && m.Text("name") == volume);
        Assert.Equal("clip-vit-base-patch32", env["Clip__DefaultModel"]);

        var name = deployment.Text("metadata", "name");
        Assert.Equal(name, Single(documents, "HorizontalPodAutoscaler").Text("spec", "scaleTargetRef", "name"));
        var selector = deployment.At("spec", "selector", "matchLabels");
        Assert.Equal(selector, Single(documents, "PodDisruptionBudget").At("spec", "selector", "matchLabels"));
        Assert.Equal(selector, service.At("spec", "selector"));
    }

    [RequiresTools("kubectl")]
    public async Task The_gpu_overlay_runs_the_cuda_image_on_a_gpu()
    {
        var documents = await RenderAsync("gpu");
        var deployment = Single(documents, "Deployment");
        var app = Container(deployment, "containers", "clipservice");
        Assert.EndsWith(":cuda", app.Text("image"), StringComparison.Ordinal);
        Assert.EndsWith(":cuda", Container(deployment, "initContainers", "fetch-model").Text("image"), StringComparison.Ordinal);
        Assert.Equal("1", app.Text("resources", "limits", "nvidia.com/gpu"));
        var env = EnvironmentOf(app);
        Assert.Equal("Cuda", env["Clip__ExecutionProvider__Provider"]);
        Assert.Equal("true", env["Clip__ExecutionProvider__RequireCuda"]);
        Assert.All(env.Keys, name => Assert.Contains(name, SettingNames()));
        // The base's probes and drain settings survive the patch.
        Assert.Equal("/health/ready", app.Text("readinessProbe", "httpGet", "path"));
        Assert.Equal("10", env["Clip__Shutdown__DrainDelaySeconds"]);
        Assert.Equal(deployment.Text("metadata", "name"), Single(documents, "HorizontalPodAutoscaler").Text("spec", "scaleTargetRef", "name"));
    }
}
