using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using ClipService.Core.Families;
using ClipService.Core.Models;
using ClipService.ModelFetching;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace ClipService.Tests;

/// <summary>fetch-model against a hub served on loopback (plain http, hence --allow-insecure-endpoint) from the
/// committed tiny model folder, which it serves for any repository and revision, and the committed random-weight
/// family exports (tests/assets/families) as the repositories of each family the code knows.</summary>
public sealed class FetchModelTests : IAsyncLifetime
{
    private const string Repository = "test-org/tiny-clip";
    private const string Revision = "0123456789abcdef0123456789abcdef01234567";
    private const string MainCommit = "89abcdef0123456789abcdef0123456789abcdef";

    private System.Collections.Concurrent.ConcurrentBag<string> ResolvedRevisions { get; } = [];

    // The models folder sits inside a sandbox with a sentinel beside it, so a fetch that escapes the models folder
    // is seen (and damages only the sandbox).
    private readonly string _sandbox = Directory.CreateTempSubdirectory("fetch-sandbox-").FullName;
    private readonly Dictionary<string, byte[]> _files = Directory
        .EnumerateFiles(Path.Combine(ClipServiceFactory.TestModels, "tiny-clip"), "*", SearchOption.AllDirectories)
        .ToDictionary(f => Path.GetRelativePath(Path.Combine(ClipServiceFactory.TestModels, "tiny-clip"), f).Replace('\\', '/'), File.ReadAllBytes);
    private WebApplication? _hub;
    private string _endpoint = "";
    private string? _tamperedPath;
    private string? _endlessPath;
    private int _hubRequests;

    // The known repositories, served from the family exports in the same layouts. Xenova's Chinese-CLIP repository
    // publishes only the combined graph, so the split graphs of the test export are left out.
    private static readonly Dictionary<string, (string Folder, string[] Without)> s_familyRepositories = new(StringComparer.Ordinal)
    {
        ["Xenova/siglip-base-patch16-224"] = ("siglip", []),
        ["onnx-community/siglip2-base-patch16-224-ONNX"] = ("siglip2", []),
        ["Xenova/chinese-clip-vit-base-patch16"] = ("chinese-clip", ["onnx/text_model.onnx", "onnx/vision_model.onnx"]),
        ["immich-app/XLM-Roberta-Large-Vit-B-32"] = ("immich-xlmr", []),
        ["immich-app/ViT-B-16-SigLIP2__webli"] = ("immich-siglip2", []),
    };

    private static string FamiliesFolder => Path.Combine(ClipServiceFactory.RepositoryRoot, "tests", "assets", "families");

    private static Dictionary<string, byte[]> FilesOf(string repository)
    {
        var (folder, without) = s_familyRepositories[repository];
        var root = Path.Combine(FamiliesFolder, folder);
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(f => !without.Contains(f))
            .ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(root, f)));
    }

    private Dictionary<string, byte[]> Served(string owner, string name) =>
        s_familyRepositories.ContainsKey($"{owner}/{name}") ? FilesOf($"{owner}/{name}") : _files;

    private string Models => Path.Combine(_sandbox, "models");
    private string Sentinel => Path.Combine(_sandbox, "sentinel.txt");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Models);
        await File.WriteAllTextAsync(Sentinel, "beside the models folder");

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _hub = builder.Build();
        _hub.Use((context, next) =>
        {
            Interlocked.Increment(ref _hubRequests);
            return next(context);
        });
        _hub.MapGet("/api/models/{owner}/{name}/tree/{revision}", (string owner, string name) => Served(owner, name).Select(f => Entry(f.Key, f.Value)));
        _hub.MapGet("/api/models/{owner}/{name}/revision/{revision}", (string revision) =>
            Results.Json(new { id = "served", sha = revision == PinnedModels.MainBranch ? MainCommit : "not-a-commit" }));
        _hub.MapGet("/{owner}/{name}/resolve/{revision}/{**path}", (string owner, string name, string revision, string path) =>
        {
            ResolvedRevisions.Add(revision);
            if (path == _endlessPath)
                return Results.Stream(Endless, "application/octet-stream");
            if (!Served(owner, name).TryGetValue(path, out var bytes))
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
        Directory.Delete(_sandbox, recursive: true);
    }

    private static async Task Endless(Stream body)
    {
        var zeros = new byte[1 << 16];
        while (true)
            await body.WriteAsync(zeros);
    }

    // Large files are LFS objects (named by SHA-256); small ones git blobs (SHA-1 of "blob <size>\0" + content).
    private static object Entry(string path, byte[] bytes)
    {
        if (path.EndsWith(".onnx", StringComparison.Ordinal))
        {
            return new { type = "file", path, oid = "pointer", size = 134, lfs = new { oid = Convert.ToHexStringLower(SHA256.HashData(bytes)), size = bytes.Length } };
        }

        return new { type = "file", path, oid = GitBlobId(bytes), size = bytes.Length };
    }

    private static string GitBlobId(byte[] bytes)
    {
#pragma warning disable CA5350 // git's blob ids are SHA-1
        return Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {bytes.Length}\0"), .. bytes]));
#pragma warning restore CA5350
    }

    private Task<(int Exit, string Output, string Error)> Fetch(params string[] extra) =>
        Run([Repository, "--revision", Revision, "--endpoint", _endpoint, "--allow-insecure-endpoint", "--models-path", Models, .. extra]);

    private static async Task<(int Exit, string Output, string Error)> Run(string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await FetchModelCommand.RunAsync(args, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    private void AssertSandboxUntouched()
    {
        Assert.True(File.Exists(Sentinel), "the file beside the models folder was deleted");
        Assert.Equal([Models, Sentinel], Directory.EnumerateFileSystemEntries(_sandbox).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.EnumerateDirectories(Models, ".fetch-*"));
        Assert.Empty(Directory.EnumerateDirectories(Models, ".replaced-*"));
    }

    [Fact]
    public async Task Fetches_a_pinned_revision_verifies_it_and_the_folder_loads()
    {
        var (exit, output, error) = await Fetch();
        Assert.True(exit == 0, error);
        var folder = Path.Combine(Models, "tiny-clip");
        Assert.Contains(folder, output, StringComparison.Ordinal);
        foreach (var file in new[] { "onnx/text_model.onnx", "onnx/vision_model.onnx", "config.json", "preprocessor_config.json", "vocab.json", "merges.txt" })
            Assert.Equal(_files[file], File.ReadAllBytes(Path.Combine(folder, file)));

        var lockFile = File.ReadAllText(Path.Combine(folder, "fetched.json"));
        Assert.Contains(Revision, lockFile, StringComparison.Ordinal);
        using var model = ClipModel.Load(folder);
        Assert.Equal(32, model.EmbeddingSize);
        AssertSandboxUntouched();
    }

    [Fact]
    public async Task A_file_that_does_not_match_the_revision_is_refused_and_nothing_is_left_behind()
    {
        _tamperedPath = "onnx/vision_model.onnx";
        var (exit, _, error) = await Fetch();
        Assert.Equal(1, exit);
        Assert.Contains("onnx/vision_model.onnx: SHA-256", error, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Models));
        AssertSandboxUntouched();
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

    [Theory]
    [InlineData("evil/..", "'..'")]
    [InlineData("..", "'..'")]
    [InlineData("evil/../tiny-clip", "NAMESPACE/NAME")]
    [InlineData("/etc", "must start and end")]
    [InlineData("org/name?x=1", "may hold only")]
    [InlineData("org/na%2Fme", "may hold only")]
    [InlineData("org/a--b", "'--'")]
    [InlineData("org/.hidden", "must start and end")]
    [InlineData("org/model.git", ".git")]
    public async Task Repository_ids_that_are_not_hub_ids_are_refused_before_any_request_or_write(string repository, string expected)
    {
        await File.WriteAllTextAsync(Path.Combine(Models, "keep.txt"), "x");
        var (exit, _, error) = await Run([repository, "--revision", Revision, "--endpoint", _endpoint, "--allow-insecure-endpoint",
            "--models-path", Models, "--force"]);
        Assert.Equal(2, exit);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Equal(0, _hubRequests);
        Assert.True(File.Exists(Path.Combine(Models, "keep.txt")));
        AssertSandboxUntouched();
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("a/b")]
    [InlineData("/tmp/x")]
    [InlineData("x\r\ny")]
    public async Task Folder_names_with_path_syntax_are_refused(string name)
    {
        var (exit, _, error) = await Fetch("--name", name, "--force");
        Assert.Equal(2, exit);
        Assert.Contains("--name", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.TrimEnd());
        Assert.Equal(0, _hubRequests);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Models));
        AssertSandboxUntouched();
    }

    [Fact]
    public async Task A_name_longer_than_the_hub_allows_is_refused()
    {
        var (exit, _, error) = await Fetch("--name", new string('a', HubNames.MaxNameLength + 1));
        Assert.Equal(2, exit);
        Assert.Contains("longer than 96", error, StringComparison.Ordinal);
        Assert.Equal(0, (await Fetch("--name", new string('a', HubNames.MaxNameLength))).Exit);
    }

    [Fact]
    public async Task Force_replaces_only_the_models_own_folder()
    {
        var own = Path.Combine(Models, "tiny-clip");
        Directory.CreateDirectory(own);
        await File.WriteAllTextAsync(Path.Combine(own, "stale.txt"), "old");
        var other = Path.Combine(Models, "other-model");
        Directory.CreateDirectory(other);
        await File.WriteAllTextAsync(Path.Combine(other, "keep.txt"), "x");

        var (exit, _, error) = await Fetch("--force");
        Assert.True(exit == 0, error);
        Assert.False(File.Exists(Path.Combine(own, "stale.txt")));
        Assert.True(File.Exists(Path.Combine(own, "onnx", "vision_model.onnx")));
        Assert.True(File.Exists(Path.Combine(other, "keep.txt")));
        AssertSandboxUntouched();
    }

    [Fact]
    public async Task Force_does_not_replace_a_symbolic_link_or_what_it_points_at()
    {
        var elsewhere = Directory.CreateTempSubdirectory("fetch-elsewhere-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(elsewhere, "precious.txt"), "x");
            Directory.CreateSymbolicLink(Path.Combine(Models, "tiny-clip"), elsewhere);
            var (exit, _, error) = await Fetch("--force");
            Assert.Equal(1, exit);
            Assert.Contains("symbolic link", error, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(elsewhere, "precious.txt")));
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    [Theory]
    [InlineData("main")]
    [InlineData("v1.0")]
    [InlineData("0123456789abcdef0123456789abcdef0123456")]
    [InlineData("0123456789abcdef0123456789abcdef0123456g")]
    [InlineData("../../api/models")]
    public async Task Revisions_must_be_commit_ids(string revision)
    {
        var (exit, _, error) = await Run([Repository, "--revision", revision, "--endpoint", _endpoint, "--allow-insecure-endpoint", "--models-path", Models]);
        Assert.Equal(2, exit);
        Assert.Contains("not a commit id", error, StringComparison.Ordinal);
        Assert.Equal(0, _hubRequests);
    }

    [Fact]
    public async Task A_plain_http_endpoint_needs_allow_insecure_endpoint()
    {
        var (exit, _, error) = await Run([Repository, "--revision", Revision, "--endpoint", _endpoint, "--models-path", Models]);
        Assert.Equal(2, exit);
        Assert.Contains("--allow-insecure-endpoint", error, StringComparison.Ordinal);
        Assert.Equal(0, _hubRequests);

        var (ftp, _, ftpError) = await Run([Repository, "--revision", Revision, "--endpoint", "ftp://127.0.0.1/", "--allow-insecure-endpoint", "--models-path", Models]);
        Assert.Equal(2, ftp);
        Assert.Contains("not an http(s) URL", ftpError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_larger_than_the_cap_is_refused_before_downloading()
    {
        // tiny-clip's text encoder is 6.5 MB, its vision encoder 0.5 MB.
        var (exit, _, error) = await Fetch("--max-file-bytes", "1000000");
        Assert.Equal(1, exit);
        Assert.Contains("onnx/text_model.onnx: the revision's tree says 6,510,994 bytes, over the limit of 1,000,000", error, StringComparison.Ordinal);
        Assert.Equal(1, _hubRequests); // the tree listing only
        Assert.Empty(Directory.EnumerateFileSystemEntries(Models));
    }

    [Fact]
    public async Task A_hub_that_sends_more_than_the_tree_says_is_cut_off_and_nothing_is_left_behind()
    {
        _endlessPath = "onnx/vision_model.onnx";
        var started = Stopwatch.StartNew();
        var (exit, _, error) = await Fetch();
        Assert.Equal(1, exit);
        Assert.Contains("onnx/vision_model.onnx: the hub sent more than the 508,152 bytes expected", error, StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), $"took {started.Elapsed}");
        Assert.Empty(Directory.EnumerateFileSystemEntries(Models));
        AssertSandboxUntouched();
    }

    [Fact]
    public async Task The_default_model_is_checked_against_the_hashes_pinned_in_the_code_before_any_download()
    {
        // The loopback hub serves tiny-clip's files as Xenova/clip-vit-base-patch32 at the pinned commit: its tree
        // vouches for them, the pins in the code do not.
        var (exit, _, error) = await Run(["--endpoint", _endpoint, "--allow-insecure-endpoint", "--models-path", Models]);
        Assert.Equal(1, exit);
        Assert.Contains("the code pins Sha256 3f6571f5bad13a97c469c1622e1cfc4d9aef78b79fdbfcff804ca357bfada8cc", error, StringComparison.Ordinal);
        Assert.Equal(1, _hubRequests);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Models));
    }

    [Fact]
    public async Task Pinned_digests_that_match_the_tree_are_accepted_and_one_that_differs_is_refused()
    {
        var pins = _files.ToDictionary(f => f.Key, f => f.Key.EndsWith(".onnx", StringComparison.Ordinal)
            ? new PinnedFile(PinAlgorithm.Sha256, Convert.ToHexStringLower(SHA256.HashData(f.Value)), f.Value.Length)
            : new PinnedFile(PinAlgorithm.GitBlobSha1, GitBlobId(f.Value), f.Value.Length));
        using var http = new HttpClient();
        var fetcher = new ModelFetcher(http, new Uri(_endpoint + "/"), TextWriter.Null);
        var folder = await fetcher.FetchAsync(new FetchRequest(Repository, Revision, Models) { Pinned = pins }, CancellationToken.None);
        Assert.True(File.Exists(Path.Combine(folder, "onnx", "text_model.onnx")));

        pins["merges.txt"] = pins["merges.txt"] with { Digest = new string('0', 40) };
        var e = await Assert.ThrowsAsync<InvalidDataException>(() =>
            fetcher.FetchAsync(new FetchRequest(Repository, Revision, Models, Force: true) { Pinned = pins }, CancellationToken.None));
        Assert.Contains("merges.txt", e.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(folder, "onnx", "text_model.onnx")), "the refused fetch must keep the existing folder");
    }

    [Theory]
    [InlineData("merges.txt")]
    [InlineData("tokenizer.json")]
    public void The_default_models_pins_agree_with_the_identical_files_in_this_repository(string file)
    {
        // clip-shapes ships OpenAI's tokenizer files byte for byte as Xenova/clip-vit-base-patch32 publishes them.
        var bytes = File.ReadAllBytes(Path.Combine(ClipServiceFactory.RepositoryRoot, "models", "clip-shapes", file));
        var pin = PinnedModels.For(FetchRequest.XenovaClipB32, FetchRequest.XenovaClipB32Revision)![file];
        Assert.Equal(PinAlgorithm.GitBlobSha1, pin.Algorithm);
        Assert.Equal(pin.Size, bytes.Length);
        Assert.Equal(pin.Digest, GitBlobId(bytes));
    }

    public static TheoryData<string, string> FamilyRepositories() => new()
    {
        { "onnx-community/siglip2-base-patch16-224-ONNX", "siglip2" },
        { "immich-app/XLM-Roberta-Large-Vit-B-32", "xlm_roberta_clip" },
        { "immich-app/ViT-B-16-SigLIP2__webli", "siglip2" },
    };

    [Theory]
    [MemberData(nameof(FamilyRepositories))]
    public async Task A_known_repository_pinned_to_main_is_fetched_at_the_commit_main_names_with_exactly_its_file_list_and_loads_as_its_family(string repository, string family)
    {
        var entry = PinnedModels.Find(repository)!;
        Assert.Equal(PinnedModels.MainBranch, entry.Revision);
        Assert.Equal(family, entry.Family);
        Assert.Empty(entry.Digests);

        var (exit, output, error) = await Run([repository, "--endpoint", _endpoint, "--allow-insecure-endpoint", "--models-path", Models]);
        Assert.True(exit == 0, error);
        Assert.Contains($"main is at commit {MainCommit}", output, StringComparison.Ordinal);
        Assert.Contains("no digest", output, StringComparison.Ordinal);
        Assert.Equal([MainCommit], ResolvedRevisions.Distinct());

        // Exactly the list (nothing else the repository holds, e.g. reference.json), byte for byte, and the lock file.
        var folder = Path.Combine(Models, repository.Split('/')[1]);
        var fetched = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/')).Where(f => f != "fetched.json");
        Assert.Equal(entry.Files.Order(StringComparer.Ordinal), fetched.Order(StringComparer.Ordinal));
        var served = FilesOf(repository);
        foreach (var file in entry.Files)
            Assert.Equal(served[file], File.ReadAllBytes(Path.Combine(folder, file)));
        var lockFile = File.ReadAllText(Path.Combine(folder, "fetched.json"));
        Assert.Contains(MainCommit, lockFile, StringComparison.Ordinal);
        Assert.Contains("no digest", lockFile, StringComparison.Ordinal);

        // The list is complete for the family's loader: the folder loads, tokenizer.json included, as that family.
        using var model = ClipModel.Load(folder);
        Assert.Equal(family, model.Family.Name);
        AssertSandboxUntouched();
    }

    [Fact]
    public async Task Chinese_clip_is_fetched_as_its_combined_graph_and_the_fetch_says_to_run_the_importer()
    {
        const string repository = "Xenova/chinese-clip-vit-base-patch16";
        var entry = PinnedModels.Find(repository)!;
        Assert.Equal("chinese_clip", entry.Family);
        Assert.Contains("onnx/model.onnx", entry.Files);
        Assert.Contains("vocab.txt", entry.Files);
        Assert.Contains("tokenizer.json", entry.Files);

        var (exit, output, error) = await Run([repository, "--endpoint", _endpoint, "--allow-insecure-endpoint", "--models-path", Models]);
        Assert.True(exit == 0, error);
        var folder = Path.Combine(Models, "chinese-clip-vit-base-patch16");
        Assert.Contains($"/usr/bin/python3 tools/import_model.py {folder}", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Serve it with", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(folder, "onnx", "model.onnx")));
        Assert.False(File.Exists(Path.Combine(folder, "onnx", "text_model.onnx")));

        // Until it is split the loader refuses it, naming the importer; after the split (what the importer writes:
        // the test export's split graphs) it loads as Chinese-CLIP.
        var refused = Assert.Throws<ModelFolderException>(() => ClipModel.Load(folder));
        Assert.Contains("tools/import_model.py", refused.Message, StringComparison.Ordinal);
        foreach (var split in new[] { "text_model.onnx", "vision_model.onnx" })
            File.Copy(Path.Combine(FamiliesFolder, "chinese-clip", "onnx", split), Path.Combine(folder, "onnx", split));
        using var model = ClipModel.Load(folder);
        Assert.Equal("chinese_clip", model.Family.Name);
    }

    [Fact]
    public async Task Siglip_is_pinned_to_a_commit_whose_recorded_digests_refuse_other_files_and_its_list_loads_at_another_commit()
    {
        const string repository = "Xenova/siglip-base-patch16-224";
        var entry = PinnedModels.Find(repository)!;
        Assert.Equal("siglip", entry.Family);
        Assert.Equal(40, entry.Revision.Length);
        Assert.False(entry.EveryFilePinned);
        Assert.All(entry.Digests.Keys, file => Assert.Contains(file, entry.Files));

        // At the pinned commit the random-weight towers do not match the digests recorded for the real ones.
        var (exit, _, error) = await Run([repository, "--endpoint", _endpoint, "--allow-insecure-endpoint", "--models-path", Models]);
        Assert.Equal(1, exit);
        Assert.Contains("the code pins Sha256 3aa7fdbd20eaa8740cce17bf82913de641fcb632a768fed59f661cdcd0c32553", error, StringComparison.Ordinal);
        Assert.Equal(1, _hubRequests);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Models));

        // At a commit the code pins nothing for, the list alone is fetched and loads as SigLIP.
        var (again, output, againError) = await Run([repository, "--revision", Revision, "--endpoint", _endpoint, "--allow-insecure-endpoint", "--models-path", Models]);
        Assert.True(again == 0, againError);
        Assert.Contains("trained_logit_bias", output, StringComparison.Ordinal);
        using var model = ClipModel.Load(Path.Combine(Models, "siglip-base-patch16-224"));
        Assert.Equal("siglip", model.Family.Name);
    }

    [Fact]
    public async Task A_content_digest_is_checked_after_download_whatever_the_tree_says()
    {
        const string repository = "onnx-community/siglip2-base-patch16-224-ONNX";
        var files = FilesOf(repository);
        var pins = new Dictionary<string, PinnedFile>
        {
            ["tokenizer.json"] = new(PinAlgorithm.ContentSha256, new string('0', 64), files["tokenizer.json"].Length),
        };
        using var http = new HttpClient();
        var fetcher = new ModelFetcher(http, new Uri(_endpoint + "/"), TextWriter.Null);
        var request = new FetchRequest(repository, Revision, Models) { Pinned = pins, EveryFilePinned = false, Files = PinnedModels.Find(repository)!.Files };
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => fetcher.FetchAsync(request, CancellationToken.None));
        Assert.Contains("tokenizer.json: SHA-256", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Models));

        pins["tokenizer.json"] = pins["tokenizer.json"] with { Digest = Convert.ToHexStringLower(SHA256.HashData(files["tokenizer.json"])) };
        Assert.True(Directory.Exists(await fetcher.FetchAsync(request, CancellationToken.None)));
    }

    [Fact]
    public async Task A_listed_file_the_tree_lacks_is_named_and_immich_entries_take_fp32_only()
    {
        var (exit, _, error) = await Run(["Xenova/chinese-clip-vit-base-patch16", "--precision", "fp16", "--endpoint", _endpoint, "--allow-insecure-endpoint", "--models-path", Models]);
        Assert.Equal(1, exit);
        Assert.Contains("onnx/model_fp16.onnx", error, StringComparison.Ordinal);
        Assert.Contains("file list", error, StringComparison.Ordinal);

        var (immich, _, immichError) = await Run(["immich-app/ViT-B-16-SigLIP2__webli", "--precision", "quantized", "--endpoint", _endpoint, "--allow-insecure-endpoint", "--models-path", Models]);
        Assert.Equal(2, immich);
        Assert.Contains("fp32", immichError, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Models));
    }

    [Fact]
    public void Every_known_repository_has_a_complete_list_for_its_layout_and_the_help_names_it()
    {
        Assert.Equal(6, PinnedModels.All.Count);
        Assert.Equal(PinnedModels.All.Count, PinnedModels.All.Select(m => m.Repository).Distinct().Count());
        Assert.Equal(["chinese_clip", "clip", "siglip", "siglip2", "xlm_roberta_clip"], PinnedModels.All.Select(m => m.Family).Distinct().Order(StringComparer.Ordinal));
        var families = ModelFamilies.All.Select(f => f.Name).ToHashSet();
        foreach (var model in PinnedModels.All)
        {
            Assert.Contains(model.Family, families);
            Assert.Contains(model.Repository, FetchModelCommand.Help, StringComparison.Ordinal);
            Assert.Contains("config.json", model.Files);
            var immich = model.Files.Contains("textual/model.onnx");
            Assert.Contains(immich ? "textual/tokenizer.json" : model.Family == "clip" ? "merges.txt" : "tokenizer.json", model.Files);
            Assert.Contains(immich ? "visual/preprocess_cfg.json" : "preprocessor_config.json", model.Files);
            if (!model.RevisionIsBranch)
                Assert.Equal(model.Revision, HubNames.ValidateRevision(model.Revision));
        }

        Assert.Contains("tools/import_model.py", FetchModelCommand.Help, StringComparison.Ordinal);
        Assert.Contains("file list only", FetchModelCommand.Help, StringComparison.Ordinal);
    }
}
