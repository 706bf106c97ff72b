using System.Security.Cryptography;
using System.Text;
using ClipService.Core.Models;
using ClipService.ModelFetching;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace ClipService.Tests;

/// <summary>fetch-model against a hub served on loopback from the committed tiny model folder.</summary>
public sealed class FetchModelTests : IAsyncLifetime
{
    private const string Repository = "test-org/tiny-clip";
    private const string Revision = "0123456789abcdef0123456789abcdef01234567";
    private readonly string _target = Directory.CreateTempSubdirectory("fetched-models-").FullName;
    private WebApplication? _hub;
    private string _endpoint = "";
    private string? _tamperedPath;

    public async Task InitializeAsync()
    {
        var source = Path.Combine(ClipServiceFactory.TestModels, "tiny-clip");
        var files = Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(source, f).Replace('\\', '/'), File.ReadAllBytes);

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _hub = builder.Build();
        _hub.MapGet($"/api/models/{Repository}/tree/{Revision}", () => files.Select(f => Entry(f.Key, f.Value)));
        _hub.MapGet($"/{Repository}/resolve/{Revision}/{{**path}}", (string path) =>
        {
            if (!files.TryGetValue(path, out var bytes))
                return Results.NotFound();
            if (path == _tamperedPath)
            {
                bytes = (byte[])bytes.Clone();
                bytes[^1] ^= 0xFF;
            }

            return Results.Bytes(bytes, "application/octet-stream");
        });
        await _hub.StartAsync();
        _endpoint = _hub.Urls.First();
    }

    public async Task DisposeAsync()
    {
        if (_hub is not null)
            await _hub.DisposeAsync();
        Directory.Delete(_target, recursive: true);
    }

    // Large files are LFS objects (named by SHA-256); small ones git blobs (SHA-1 of "blob <size>\0" + content).
    private static object Entry(string path, byte[] bytes)
    {
        if (path.EndsWith(".onnx", StringComparison.Ordinal))
        {
            return new { type = "file", path, oid = "pointer", size = 134, lfs = new { oid = Convert.ToHexStringLower(SHA256.HashData(bytes)), size = bytes.Length } };
        }

#pragma warning disable CA5350 // git's blob ids are SHA-1
        var blob = SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {bytes.Length}\0"), .. bytes]);
#pragma warning restore CA5350
        return new { type = "file", path, oid = Convert.ToHexStringLower(blob), size = bytes.Length };
    }

    private async Task<(int Exit, string Output, string Error)> Fetch(params string[] extra)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await FetchModelCommand.RunAsync(
            [Repository, "--revision", Revision, "--endpoint", _endpoint, "--models-path", _target, .. extra], output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Fetches_a_pinned_revision_verifies_it_and_the_folder_loads()
    {
        var (exit, output, error) = await Fetch();
        Assert.True(exit == 0, error);
        var folder = Path.Combine(_target, "tiny-clip");
        Assert.Contains(folder, output, StringComparison.Ordinal);
        foreach (var file in new[] { "onnx/text_model.onnx", "onnx/vision_model.onnx", "config.json", "preprocessor_config.json", "vocab.json", "merges.txt" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(ClipServiceFactory.TestModels, "tiny-clip", file)), File.ReadAllBytes(Path.Combine(folder, file)));
        }

        var lockFile = File.ReadAllText(Path.Combine(folder, "fetched.json"));
        Assert.Contains(Revision, lockFile, StringComparison.Ordinal);
        using var model = ClipModel.Load(folder);
        Assert.Equal(32, model.EmbeddingSize);
        Assert.Empty(Directory.EnumerateDirectories(_target, ".fetch-*"));
    }

    [Fact]
    public async Task A_file_that_does_not_match_the_revision_is_refused_and_nothing_is_left_behind()
    {
        _tamperedPath = "onnx/vision_model.onnx";
        var (exit, _, error) = await Fetch();
        Assert.Equal(1, exit);
        Assert.Contains("onnx/vision_model.onnx: SHA-256", error, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_target));
    }

    [Fact]
    public async Task A_missing_precision_variant_is_named_and_an_existing_folder_is_kept()
    {
        var (exit, _, error) = await Fetch("--precision", "quantized");
        Assert.Equal(1, exit);
        Assert.Contains("onnx/text_model_quantized.onnx", error, StringComparison.Ordinal);

        Assert.Equal(0, (await Fetch()).Exit);
        var (again, _, refused) = await Fetch();
        Assert.Equal(1, again);
        Assert.Contains("--force", refused, StringComparison.Ordinal);
    }
}
