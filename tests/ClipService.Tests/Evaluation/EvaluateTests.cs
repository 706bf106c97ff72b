using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClipService.Evaluation;

namespace ClipService.Tests.Evaluation;

/// <summary>
/// <c>evaluate</c> on the committed fixtures (tools/make_eval_fixtures.py: 6 classes × 5 pictures and a corrupt file;
/// 12 captioned pictures) and the default model, checked against what the test itself computes from the service's
/// own answers.
/// </summary>
public sealed class EvaluateTests(DefaultService service) : IClassFixture<DefaultService>
{
    private static readonly string Fixtures = Path.Combine(ClipServiceFactory.RepositoryRoot, "tests", "assets", "eval");
    private static readonly string Shapes = Path.Combine(Fixtures, "shapes");
    private static readonly string ModelsPath = $"--Clip:ModelsPath={Path.Combine(ClipServiceFactory.RepositoryRoot, "models")}";

    [Fact]
    public async Task Report_agrees_with_what_classify_answers_for_each_image()
    {
        var (code, report, _, _) = await EvaluateAsync("--data", Shapes);
        Assert.Equal(0, code);

        var labels = ClassLabels();
        var truth = new List<string>();
        var predicted = new List<string>();
        foreach (var folder in Directory.GetDirectories(Shapes).Order(StringComparer.Ordinal))
        foreach (var file in Directory.GetFiles(folder).Order(StringComparer.Ordinal))
        {
            using var response = await service.Client.PostAsJsonAsync("/classify",
                new { image = Convert.ToBase64String(await File.ReadAllBytesAsync(file)), labels = labels.Values.ToArray() });
            if (Path.GetFileName(file) == "corrupt.jpg")
            {
                Assert.Equal(400, (int)response.StatusCode);
                continue;
            }

            response.EnsureSuccessStatusCode();
            var answer = await response.Content.ReadFromJsonAsync<JsonObject>();
            truth.Add(labels[Path.GetFileName(folder)]);
            predicted.Add(answer!["labels"]![0]!["label"]!.GetValue<string>());
        }

        var run = Assert.Single(report["runs"]!.AsArray())!;
        Assert.Equal(truth.Count, run["images"]!.GetValue<int>());
        Assert.Equal(truth.Zip(predicted).Count(p => p.First == p.Second) / (double)truth.Count, run["top1"]!.GetValue<double>(), 12);

        var order = run["confusion"]!["labels"]!.AsArray().Select(l => l!.GetValue<string>()).ToList();
        Assert.Equal(labels.Keys.Order(StringComparer.Ordinal).Select(folder => labels[folder]), order); // the folders' order
        var matrix = run["confusion"]!["matrix"]!.AsArray().Select(r => r!.AsArray().Select(c => c!.GetValue<int>()).ToArray()).ToArray();
        Assert.Equal(truth.Count, matrix.Sum(r => r.Sum()));
        for (var t = 0; t < order.Count; t++)
        for (var p = 0; p < order.Count; p++)
            Assert.Equal(truth.Zip(predicted).Count(x => x.First == order[t] && x.Second == order[p]), matrix[t][p]);

        foreach (var perClass in run["per_class"]!.AsArray())
        {
            var label = perClass!["label"]!.GetValue<string>();
            var support = truth.Count(t => t == label);
            var hits = truth.Zip(predicted).Count(x => x.First == label && x.Second == label);
            var predictedAs = predicted.Count(p => p == label);
            var precision = predictedAs == 0 ? 0 : (double)hits / predictedAs;
            var recall = (double)hits / support;
            Assert.Equal(support, perClass["support"]!.GetValue<int>());
            Assert.Equal(precision, perClass["precision"]!.GetValue<double>(), 12);
            Assert.Equal(recall, perClass["recall"]!.GetValue<double>(), 12);
            Assert.Equal(precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall), perClass["f1"]!.GetValue<double>(), 12);
        }

        var skipped = Assert.Single(report["skipped"]!.AsArray())!;
        Assert.Equal("red_circle/corrupt.jpg", skipped["path"]!.GetValue<string>());
        Assert.Contains("400", skipped["reason"]!.GetValue<string>());
        Assert.Equal(31, report["images"]!.GetValue<int>());
        Assert.Equal("in-process", report["mode"]!.GetValue<string>());
        Assert.False(report["partial"]!.GetValue<bool>());
        Assert.NotEmpty(report["service_version"]!.GetValue<string>());
        var model = Assert.Single(report["models"]!.AsArray())!;
        Assert.Equal("clip-shapes", model["name"]!.GetValue<string>());
        var vision = model["digests"]!.AsArray().Single(d => d!["path"]!.GetValue<string>() == "onnx/vision_model.onnx")!;
        var visionFile = Path.Combine(ClipServiceFactory.RepositoryRoot, "models", "clip-shapes", "onnx", "vision_model.onnx");
        await using (var stream = File.OpenRead(visionFile))
            Assert.Equal(Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(stream)), vision["sha256"]!.GetValue<string>());
        Assert.True(run["images_per_second"]!.GetValue<double>() > 0);
        Assert.True(run["latency_ms"]!["p95"]!.GetValue<double>() >= run["latency_ms"]!["p50"]!.GetValue<double>());
    }

    [Fact]
    public async Task Predictions_csv_has_a_row_per_evaluated_image_matching_the_matrix()
    {
        var (code, report, output, _) = await EvaluateAsync("--data", Shapes);
        Assert.Equal(0, code);
        var rows = Csv.Parse(await File.ReadAllTextAsync(Path.Combine(output, "predictions.csv")));
        Assert.Equal(["run", "model", "template", "path", "label", "predicted", "correct", "confidence", "top_k", "latency_ms"], rows[0]);
        Assert.Equal(30, rows.Count - 1);
        var run = report["runs"]![0]!;
        Assert.Equal(run["top1"]!.GetValue<double>(), rows.Skip(1).Count(r => r[6] == "true") / 30.0, 12);
        Assert.All(rows.Skip(1), r => Assert.Equal(r[4] == r[5], r[6] == "true"));
        Assert.True(File.Exists(Path.Combine(output, "report.html")));
    }

    [Fact]
    public async Task Same_seed_gives_the_same_intervals_and_another_seed_may_not()
    {
        var (_, first, _, _) = await EvaluateAsync("--data", Shapes, "--template", "a {}.", "--seed", "7");
        var (_, second, _, _) = await EvaluateAsync("--data", Shapes, "--template", "a {}.", "--seed", "7");
        Assert.Equal(first["runs"]![0]!["ci95"]!.ToJsonString(), second["runs"]![0]!["ci95"]!.ToJsonString());
        var interval = first["runs"]![0]!["ci95"]!["top1"]!;
        var top1 = first["runs"]![0]!["top1"]!.GetValue<double>();
        Assert.InRange(top1, interval["low"]!.GetValue<double>(), interval["high"]!.GetValue<double>());
    }

    [Fact]
    public async Task Two_templates_make_a_grid_of_two_runs_on_the_same_images_with_a_paired_comparison()
    {
        var (code, report, _, stdout) = await EvaluateAsync("--data", Shapes, "--template", "a photo of a {}.", "--template", "{}");
        Assert.Equal(0, code);
        var runs = report["runs"]!.AsArray();
        Assert.Equal(2, runs.Count);
        Assert.Equal(["a photo of a {}.", "{}"], runs.Select(r => r!["template"]!.GetValue<string>()));
        Assert.Equal(["a photo of a {}."], runs[0]!["templates"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.All(runs, r => Assert.Equal(30, r!["images"]!.GetValue<int>()));
        var comparison = Assert.Single(report["comparisons"]!.AsArray())!;
        Assert.Equal("run1", comparison["a"]!.GetValue<string>());
        Assert.Equal("run2", comparison["b"]!.GetValue<string>());
        Assert.Equal(runs[1]!["top1"]!.GetValue<double>() - runs[0]!["top1"]!.GetValue<double>(), comparison["top1_difference"]!.GetValue<double>(), 12);
        var ci = comparison["ci95"]!;
        Assert.Equal(ci["low"]!.GetValue<double>() > 0 || ci["high"]!.GetValue<double>() < 0, comparison["significant"]!.GetValue<bool>());
        Assert.Contains("run2 − run1", stdout);
    }

    [Fact]
    public async Task In_process_and_url_give_the_same_figures()
    {
        await using var deployment = await ServiceProcess.StartReadyAsync([ModelsPath, "--Clip:PrecomputeLabelSets=false"]);
        var (inProcess, local, _, _) = await EvaluateAsync("--data", Shapes, "--template", "a {} shape.");
        var (overHttp, remote, _, _) = await EvaluateAsync(withModels: false, "--data", Shapes, "--template", "a {} shape.", "--url", deployment.Address.ToString());
        Assert.Equal(0, inProcess);
        Assert.Equal(0, overHttp);
        Assert.Equal("url", remote["mode"]!.GetValue<string>());
        Assert.Equal(Figures(local), Figures(remote));
        Assert.Equal(local["skipped"]!.ToJsonString(), remote["skipped"]!.ToJsonString());

        static string Figures(JsonNode report)
        {
            var run = report["runs"]![0]!.AsObject().DeepClone().AsObject();
            foreach (var timing in new[] { "images_per_second", "latency_ms", "seconds" })
                run.Remove(timing);
            return run.ToJsonString();
        }
    }

    [Fact]
    public async Task Url_mode_with_a_key_the_service_refuses_stops_with_one_line()
    {
        await using var deployment = await ServiceProcess.StartReadyAsync([ModelsPath, "--Clip:PrecomputeLabelSets=false", "--Clip:Auth:ApiKeys:0=" + new string('k', 32)]);
        var (code, _, _, _, error) = await RunAsync(withModels: false, "--data", Shapes, "--url", deployment.Address.ToString(), "--api-key", new string('x', 32));
        Assert.Equal(1, code);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("API key", error);
        var (ok, report, _, _) = await EvaluateAsync(withModels: false, "--data", Shapes, "--url", deployment.Address.ToString(), "--api-key", new string('k', 32));
        Assert.Equal(0, ok);
        Assert.DoesNotContain(new string('k', 32), report["command"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("csv")]
    [InlineData("jsonl")]
    public async Task A_manifest_gives_labels_that_folders_cannot_spell(string format)
    {
        using var folder = new TemporaryFolder();
        var rows = new List<(string Path, string Label)>();
        foreach (var (source, label) in new[] { ("red_circle", "红色的圆, round"), ("blue_square", "a \"blue\" square") })
        foreach (var file in Directory.GetFiles(Path.Combine(Shapes, source)).Where(f => !f.EndsWith("corrupt.jpg", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var relative = $"images/{source}-{Path.GetFileName(file)}";
            Directory.CreateDirectory(Path.Combine(folder.Path, "images"));
            File.Copy(file, Path.Combine(folder.Path, relative));
            rows.Add((relative, label));
        }

        var manifest = Path.Combine(folder.Path, $"manifest.{format}");
        await File.WriteAllLinesAsync(manifest, format == "csv"
            ? ["path,label", .. rows.Select(r => $"{Csv.Field(r.Path)},{Csv.Field(r.Label)}")]
            : rows.Select(r => JsonSerializer.Serialize(new { path = r.Path, label = r.Label })));
        var (code, report, _, _) = await EvaluateAsync("--data", manifest);
        Assert.Equal(0, code);
        var run = report["runs"]![0]!;
        Assert.Equal(10, run["images"]!.GetValue<int>());
        Assert.Equal(["红色的圆, round", "a \"blue\" square"], run["confusion"]!["labels"]!.AsArray().Select(l => l!.GetValue<string>()));
        Assert.All(run["per_class"]!.AsArray(), c => Assert.Equal(5, c!["support"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Limit_per_class_draws_the_same_images_for_the_same_seed()
    {
        var (_, first, out1, _) = await EvaluateAsync("--data", Shapes, "--limit-per-class", "2", "--seed", "3");
        var (_, again, out2, _) = await EvaluateAsync("--data", Shapes, "--limit-per-class", "2", "--seed", "3");
        var paths = (await File.ReadAllLinesAsync(Path.Combine(out1, "predictions.csv"))).Skip(1).Select(l => l.Split(',')[3]).ToList();
        Assert.Equal(paths, (await File.ReadAllLinesAsync(Path.Combine(out2, "predictions.csv"))).Skip(1).Select(l => l.Split(',')[3]));
        Assert.All(first["runs"]![0]!["per_class"]!.AsArray(), c => Assert.InRange(c!["support"]!.GetValue<int>(), 1, 2));
        Assert.InRange(first["runs"]![0]!["images"]!.GetValue<int>(), 11, 12); // the corrupt file may be among red_circle's two
        Assert.Equal(first["images"]!.GetValue<int>(), again["images"]!.GetValue<int>());
    }

    [Fact]
    public async Task Retrieval_recall_at_k_agrees_with_rankings_the_test_computes()
    {
        // Shape-only captions ("a circle" for the red circle, "a picture of a circle" for the black one) make the
        // ranking non-trivial, and distinct texts keep ties (which the test's sort would break by order) out.
        using var folder = new TemporaryFolder();
        var rows = Csv.Parse(await File.ReadAllTextAsync(Path.Combine(Fixtures, "captions.csv"))).Skip(1).ToList();
        Directory.CreateDirectory(Path.Combine(folder.Path, "captioned"));
        foreach (var row in rows)
            File.Copy(Path.Combine(Fixtures, row[0]), Path.Combine(folder.Path, row[0]));
        var seen = new HashSet<string>();
        var captions = rows.Select(r => r[1].Split(' ')[^1]).Select((shape, i) => (Path: rows[i][0], Caption: seen.Add(shape) ? $"a {shape}" : $"a picture of a {shape}")).ToList();
        var manifest = Path.Combine(folder.Path, "captions.csv");
        await File.WriteAllLinesAsync(manifest, ["path,caption", .. captions.Select(c => $"{c.Path},{c.Caption}")]);

        var (code, report, _, _) = await EvaluateAsync("--data", folder.Path, "--task", "retrieval");
        Assert.Equal(0, code);

        var images = new List<float[]>();
        foreach (var (path, _) in captions)
        {
            using var response = await service.Client.PostAsJsonAsync("/embed/image", new { image = Convert.ToBase64String(await File.ReadAllBytesAsync(Path.Combine(folder.Path, path))) });
            images.Add((await response.Content.ReadFromJsonAsync<JsonObject>())!["embeddings"]![0]!.AsArray().Select(v => v!.GetValue<float>()).ToArray());
        }

        using var texts = await service.Client.PostAsJsonAsync("/embed/text", new { texts = captions.Select(c => c.Caption).ToArray() });
        var textRows = (await texts.Content.ReadFromJsonAsync<JsonObject>())!["embeddings"]!.AsArray()
            .Select(r => r!.AsArray().Select(v => v!.GetValue<float>()).ToArray()).ToList();
        double Cos(float[] a, float[] b) => a.Zip(b).Sum(x => (double)x.First * x.Second);

        var run = Assert.Single(report["retrieval_runs"]!.AsArray())!;
        foreach (var k in new[] { 1, 5, 10 })
        {
            // Image i's caption is caption i; its rank is its position in the sorted list of captions.
            var imageHits = images.Select((image, i) => textRows.Select((t, c) => (c, s: Cos(image, t))).OrderByDescending(x => x.s).Take(k).Any(x => x.c == i)).Count(h => h);
            var textHits = textRows.Select((text, c) => images.Select((image, i) => (i, s: Cos(image, text))).OrderByDescending(x => x.s).Take(k).Any(x => x.i == c)).Count(h => h);
            Assert.Equal((double)imageHits / images.Count, run["image_to_text"]![$"recall_at_{k}"]!.GetValue<double>(), 12);
            Assert.Equal((double)textHits / images.Count, run["text_to_image"]![$"recall_at_{k}"]!.GetValue<double>(), 12);
        }

        Assert.True(run["text_to_image"]!["recall_at_1"]!.GetValue<double>() < 1, "shape-only captions should confuse circles of two colours");
        Assert.Equal(12, run["images"]!.GetValue<int>());
    }

    [Fact]
    public async Task An_interrupted_run_writes_partial_reports_for_what_was_done()
    {
        using var stop = new CancellationTokenSource();
        using var folder = new TemporaryFolder();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await EvaluateCommand.RunAsync(["--data", Shapes, "--out", folder.Path, "--concurrency", "1", ModelsPath], stdout, stderr, terminal: false,
            imageDone: done => { if (done == 8) stop.Cancel(); }, stop.Token);
        Assert.Equal(EvaluateCommand.Interrupted, code);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(folder.Path, "report.json")))!;
        Assert.True(report["partial"]!.GetValue<bool>());
        var images = report["runs"]![0]!["images"]!.GetValue<int>();
        Assert.InRange(images, 1, 8);
        Assert.Equal(images, report["runs"]![0]!["confusion"]!["matrix"]!.AsArray().Sum(r => r!.AsArray().Sum(c => c!.GetValue<int>())));
        Assert.Contains("partial", stdout.ToString());
        Assert.True(File.Exists(Path.Combine(folder.Path, "report.html")));
    }

    [Fact]
    public async Task Progress_is_plain_lines_when_the_output_is_not_a_terminal()
    {
        var (_, _, _, _, error) = await RunAsync(withModels: true, "--data", Shapes);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Matches(@"^evaluate: \d+/31 images, [\d.]+ img/s, ETA \d+:\d\d$", l.TrimEnd('\r')));
        Assert.EndsWith("31/31 images", lines[^1].Split(',')[0]);
    }

    [Theory]
    [InlineData("no --data")]
    [InlineData("--data", "{shapes}", "--bogus")]
    [InlineData("--data", "{shapes}", "--top-k", "0")]
    [InlineData("--data", "{shapes}", "--top-k")]
    [InlineData("--data", "{shapes}", "--task", "detect")]
    [InlineData("--data", "{shapes}", "--template", "no placeholder")]
    [InlineData("--data", "{shapes}", "--url", "ftp://example.org")]
    [InlineData("--data", "{shapes}", "--api-key", "0123456789abcdef0123")]
    [InlineData("--data", "/no/such/folder")]
    [InlineData("--data", "{empty}")]
    [InlineData("--data", "{one-class}")]
    [InlineData("--data", "{outside}")]
    [InlineData("--data", "{shapes}", "--model", "no-such-model")]
    [InlineData("--data", "{shapes}", "--task", "retrieval")]
    [InlineData("--data", "{shapes}", "--data", "{shapes}")]
    [InlineData("--data", "{shapes}", "--templates", "imagenet-nope")]
    [InlineData("--data", "{shapes}", "--timeout", "5")]
    [InlineData("--data", "{duplicate-row}")]
    [InlineData("--data", "{label-list}")]
    [InlineData("--data", "{linked-out}")]
    public async Task Bad_arguments_and_unusable_data_exit_2_with_one_line(params string[] args)
    {
        using var folder = new TemporaryFolder();
        Directory.CreateDirectory(Path.Combine(folder.Path, "empty", "cats"));
        Directory.CreateDirectory(Path.Combine(folder.Path, "one-class", "cats"));
        File.Copy(Path.Combine(Shapes, "red_circle", "01.jpg"), Path.Combine(folder.Path, "one-class", "cats", "a.jpg"));
        Directory.CreateDirectory(Path.Combine(folder.Path, "outside"));
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "outside", "manifest.csv"), $"path,label\n../one-class/cats/a.jpg,cat\n{Path.Combine(Shapes, "red_circle", "01.jpg")},dog\n");
        Directory.CreateDirectory(Path.Combine(folder.Path, "m", "img"));
        File.Copy(Path.Combine(Shapes, "red_circle", "01.jpg"), Path.Combine(folder.Path, "m", "img", "a.jpg"));
        File.Copy(Path.Combine(Shapes, "blue_square", "00.jpg"), Path.Combine(folder.Path, "m", "img", "b.jpg"));
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "m", "duplicate.csv"), "path,label\nimg/a.jpg,red\nimg/b.jpg,blue\nimg/a.jpg,blue\n");
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "m", "list.jsonl"), "{\"path\":\"img/a.jpg\",\"label\":\"red\"}\n{\"path\":\"img/b.jpg\",\"label\":[\"blue\",\"x\"]}\n");
        // A link inside the data folder to a folder outside it: the path looks inside, the file is not.
        Directory.CreateSymbolicLink(Path.Combine(folder.Path, "m", "img", "elsewhere"), Path.Combine(Shapes, "green_cross"));
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "m", "linked.csv"), "path,label\nimg/a.jpg,red\nimg/elsewhere/00.png,green\n");
        var resolved = args is ["no --data"] ? [] : args.Select(a => a switch
        {
            "{shapes}" => Shapes,
            "{empty}" => Path.Combine(folder.Path, "empty"),
            "{one-class}" => Path.Combine(folder.Path, "one-class"),
            "{outside}" => Path.Combine(folder.Path, "outside", "manifest.csv"),
            "{duplicate-row}" => Path.Combine(folder.Path, "m", "duplicate.csv"),
            "{label-list}" => Path.Combine(folder.Path, "m", "list.jsonl"),
            "{linked-out}" => Path.Combine(folder.Path, "m", "linked.csv"),
            _ => a,
        }).ToArray();
        var (code, _, _, _, error) = await RunAsync(withModels: true, resolved);
        Assert.Equal(2, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("evaluate: ", line);
        Assert.DoesNotContain("   at ", line);
    }

    [Fact]
    public async Task Fifos_devices_and_folder_links_neither_hang_nor_multiply_the_images()
    {
        using var folder = new TemporaryFolder();
        foreach (var (source, target) in new[] { ("red_circle", "a"), ("blue_square", "b") })
        {
            Directory.CreateDirectory(Path.Combine(folder.Path, target));
            foreach (var file in Directory.GetFiles(Path.Combine(Shapes, source)).Where(f => !f.EndsWith("corrupt.jpg", StringComparison.Ordinal)))
                File.Copy(file, Path.Combine(folder.Path, target, Path.GetFileName(file)));
        }

        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", Path.Combine(folder.Path, "a", "pipe.jpg")))
            await mkfifo.WaitForExitAsync();
        File.CreateSymbolicLink(Path.Combine(folder.Path, "a", "zero.jpg"), "/dev/zero");
        Directory.CreateSymbolicLink(Path.Combine(folder.Path, "a", "loop"), folder.Path);
        File.CreateSymbolicLink(Path.Combine(folder.Path, "b", "linked.jpg"), Path.Combine(Shapes, "blue_square", "00.jpg"));

        var run = Task.Run(() => EvaluateAsync("--data", folder.Path));
        Assert.Same(run, await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60))));
        var (code, report, _, _) = await run;
        Assert.Equal(0, code);
        Assert.Equal(11, report["runs"]![0]!["images"]!.GetValue<int>()); // 5 + 5 files and the link to a file; the folder link is not walked
        var skipped = report["skipped"]!.AsArray().ToDictionary(s => s!["path"]!.GetValue<string>(), s => s!["reason"]!.GetValue<string>());
        Assert.Equal(["a/pipe.jpg", "a/zero.jpg"], skipped.Keys.Order(StringComparer.Ordinal));
        Assert.All(skipped.Values, reason => Assert.Equal("empty, or not a regular file", reason));
    }

    [Fact]
    public async Task A_deployment_that_fails_every_image_or_answers_nonsense_is_exit_1_with_the_reports()
    {
        foreach (var (name, classify) in new (string, Func<HttpContext, Task>)[]
        {
            ("500", context => { context.Response.StatusCode = 500; return Task.CompletedTask; }),
            ("empty ranking", context => context.Response.WriteAsJsonAsync(new { model = "m", scoring = "softmax", labels = Array.Empty<object>(), templates = new[] { "{}" } })),
        })
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            await using var app = builder.Build();
            var probed = false;
            app.MapGet("/models", () => Results.Json(new[] { new { name = "m", @default = true, family = "clip", scoring = "softmax", provider = "CPU" } }));
            app.MapPost("/classify", async context =>
            {
                // The blank probe before the run is answered well; the images are not.
                if (!probed)
                {
                    probed = true;
                    await context.Response.WriteAsJsonAsync(new { model = "m", scoring = "softmax", labels = new[] { new { label = "red circle", score = 1.0, similarity = 0.3 } }, templates = new[] { "{}" } });
                    return;
                }

                await classify(context);
            });
            await app.StartAsync();
            var address = app.Urls.First();
            var (code, report, _, _, error) = await RunAsync(withModels: false, "--data", Shapes, "--url", address, "--concurrency", "1");
            Assert.True(code == 1, $"{name}: exit {code}, {error}");
            Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => !Regex.IsMatch(l, @"^evaluate: \d+/\d+ images"));
            Assert.NotNull(report);
        }
    }

    [Fact]
    public async Task Retrieval_predictions_give_each_image_its_caption_rank()
    {
        var (code, report, output, _) = await EvaluateAsync("--data", Path.Combine(Fixtures, "captions.csv"), "--task", "retrieval");
        Assert.Equal(0, code);
        var rows = Csv.Parse(await File.ReadAllTextAsync(Path.Combine(output, "predictions.csv")));
        Assert.Equal(["run", "model", "template", "path", "caption_rank", "top_caption"], rows[0]);
        Assert.Equal(12, rows.Count - 1);
        var atOne = rows.Skip(1).Count(r => r[4] == "1") / 12.0;
        Assert.Equal(report["retrieval_runs"]![0]!["image_to_text"]!["recall_at_1"]!.GetValue<double>(), atOne, 12);
    }

    [Fact]
    public void Csv_fields_are_never_formulas_or_control_characters()
    {
        Assert.Equal("'=cmd|' /C calc'!A0", Csv.Field("=cmd|' /C calc'!A0"));
        Assert.Equal("'+1", Csv.Field("+1"));
        Assert.Equal("'@x", Csv.Field("@x"));
        Assert.Equal("a\uFFFD[31mred", Csv.Field("a\u001b[31mred"));
    }

    [Fact]
    public async Task Models_that_cannot_load_in_process_exit_1_with_one_line()
    {
        using var folder = new TemporaryFolder();
        var (code, _, _, _, error) = await RunAsync(withModels: false, "--data", Shapes, $"--Clip:ModelsPath={folder.Path}");
        Assert.Equal(1, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("evaluate: the service cannot start: ", line);
        Assert.Contains("holds no model folders", line);
    }

    [Fact]
    public async Task Help_lists_the_interface()
    {
        var (code, _, _, stdout, _) = await RunAsync(withModels: false, "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--data", "--model", "--template", "--templates", "--out", "--top-k", "--limit-per-class", "--seed", "--task", "--url", "--api-key" })
            Assert.Contains(option, stdout);
        Assert.Contains("evaluate --data DIR", ClipService.Hosting.CommandLine.Help);
    }

    private static Dictionary<string, string> ClassLabels() =>
        Csv.Parse(File.ReadAllText(Path.Combine(Shapes, EvaluationData.ClassesFile))).Skip(1).ToDictionary(r => r[0], r => r[1]);

    private static Task<(int Code, JsonNode Report, string Output, string Stdout)> EvaluateAsync(params string[] args) => EvaluateAsync(withModels: true, args);

    private static async Task<(int Code, JsonNode Report, string Output, string Stdout)> EvaluateAsync(bool withModels, params string[] args)
    {
        var (code, report, output, stdout, error) = await RunAsync(withModels, args);
        Assert.True(code == 0, $"evaluate exited {code}: {error}");
        return (code, report!, output, stdout);
    }

    private static async Task<(int Code, JsonNode? Report, string Output, string Stdout, string Error)> RunAsync(bool withModels, params string[] args)
    {
        var output = Path.Combine(Path.GetTempPath(), "clip-eval-" + Guid.NewGuid().ToString("N"));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await EvaluateCommand.RunAsync([.. args, "--out", output, .. withModels ? new[] { ModelsPath } : []], stdout, stderr,
            terminal: false, imageDone: null, CancellationToken.None);
        var reportPath = Path.Combine(output, "report.json");
        var report = File.Exists(reportPath) ? JsonNode.Parse(await File.ReadAllTextAsync(reportPath)) : null;
        return (code, report, output, stdout.ToString(), stderr.ToString());
    }
}

internal sealed class TemporaryFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("clip-eval-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
