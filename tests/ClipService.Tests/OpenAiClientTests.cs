using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using static ClipService.Tests.ClassifyBatchTests;
using static ClipService.Tests.EmbeddingsTests;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

/// <summary>
/// The official OpenAI client from npm (tests/openai-client, pinned by its package-lock.json) against the service on a
/// real Kestrel port: what an application using OpenAI's SDK gets must equal /embed/text and /embed/image.
/// </summary>
public sealed class OpenAiClientTests
{
    private static readonly string ClientFolder = Path.Combine(ClipServiceFactory.RepositoryRoot, "tests", "openai-client");

    [RequiresTools("node", "npm")]
    public async Task The_official_openai_client_gets_the_same_vectors_as_the_native_endpoints()
    {
        await EnsureInstalledAsync();
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?> { ["urls"] = "http://127.0.0.1:0" });
        factory.UseKestrel(0);
        factory.StartServer();
        using var client = await factory.ReadyClientAsync();
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var image = TestImages.Shape("red", "circle", seed: 80);

        var output = await RunAsync("node", ["embed.mjs", $"{address}/v1", "clip-shapes", Convert.ToBase64String(image)], TimeSpan.FromSeconds(60));
        using var result = JsonDocument.Parse(output);
        var root = result.RootElement;

        var texts = Rows(await Ok(await client.PostAsJsonAsync("/embed/text", new { texts = new[] { "a photo of a red circle.", "a photo of a blue star." } })));
        Assert.Equal(texts, Vectors(root.GetProperty("default")));
        Assert.Equal(texts, Vectors(root.GetProperty("float")));
        Assert.Equal(18, root.GetProperty("default").GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal("list", root.GetProperty("default").GetProperty("object").GetString());

        using var form = Form(image);
        var imageEmbedding = Rows(await Ok(await client.PostAsync("/embed/image", form)));
        Assert.Equal(imageEmbedding, Vectors(root.GetProperty("image")));
        Assert.Equal(0, root.GetProperty("image").GetProperty("usage").GetProperty("total_tokens").GetInt32());

        Assert.Equal(["clip-shapes"], root.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        var unknown = root.GetProperty("unknownModel");
        Assert.Equal(404, unknown.GetProperty("status").GetInt32());
        Assert.True(unknown.GetProperty("isNotFound").GetBoolean());
        Assert.Equal("model_not_found", unknown.GetProperty("code").GetString());
        Assert.Equal("model", unknown.GetProperty("param").GetString());
    }

    private static float[][] Vectors(JsonElement response) =>
        [.. response.GetProperty("embeddings").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray())];

    // The lock file pins the client; `npm ci` installs exactly it when node_modules is missing (a fresh clone).
    private static async Task EnsureInstalledAsync()
    {
        if (!Directory.Exists(Path.Combine(ClientFolder, "node_modules", "openai")))
            await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], TimeSpan.FromMinutes(5));
    }

    private static async Task<string> RunAsync(string program, string[] arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = ClientFolder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        using var deadline = new CancellationTokenSource(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds:F0} s.");
        }

        Assert.True(process.ExitCode == 0, $"{program} {arguments[0]} exited with {process.ExitCode}: {await stderr}");
        return await stdout;
    }
}
