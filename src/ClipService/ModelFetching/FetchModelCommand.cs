using System.Globalization;

namespace ClipService.ModelFetching;

/// <summary>`ClipService fetch-model [repo] [options]`: downloads a real model of one of the served families into the
/// models folder.</summary>
public static class FetchModelCommand
{
    public const string Name = "fetch-model";

    public const string Help = """
        ClipService fetch-model [REPOSITORY] [options]
          Downloads a model folder (Hugging Face / transformers.js or immich layout) into the models folder,
          at one commit, verifying every file against the hashes the hub publishes for that commit's tree.
          REPOSITORY   default Xenova/clip-vit-base-patch32; NAME or NAMESPACE/NAME as on the hub. Known to the code
                       (one per family; no --revision needed):
            Xenova/clip-vit-base-patch32                 clip          commit d15189d7, every file's digest pinned
            Xenova/siglip-base-patch16-224               siglip        commit 46490526, digests pinned for the two
                                                                       fp32 towers and tokenizer.json only
            onnx-community/siglip2-base-patch16-224-ONNX siglip2       branch main, file list only (*)
            Xenova/chinese-clip-vit-base-patch16         chinese_clip  branch main, file list only (*); one combined
                                                                       onnx/model.onnx: afterwards run
                                                                       /usr/bin/python3 tools/import_model.py FOLDER
            immich-app/XLM-Roberta-Large-Vit-B-32        xlm_roberta_clip  branch main, file list only (*), fp32
            immich-app/ViT-B-16-SigLIP2__webli           siglip2 (immich)  branch main, file list only (*), fp32
          (*) no digest in the code: main is resolved to its commit when fetching, every file is checked against
              that commit's tree listing (which vouches only for itself), and fetched.json records the commit;
              pass --revision to fetch a commit you have checked instead. SigLIP entries rank (cosine) until
              config.json has trained_logit_scale/trained_logit_bias (tools/import_model.py on onnx/model.onnx).
          --revision R   commit (40 hex digits) to fetch; required for other repositories: a branch is not a pin
          --precision P  fp32 (default), fp16 or quantized: which onnx/*model*.onnx files to fetch (immich: fp32)
          --models-path  target folder (default: models); the model goes into a sub-folder of it, nowhere else
          --name N       sub-folder name (default: the repository's name); letters, digits, '_', '.', '-'
          --force        replace an existing sub-folder of that name (only that one)
          --endpoint U   hub address (default https://huggingface.co; env HF_ENDPOINT)
          --allow-insecure-endpoint   accept a plain-http endpoint (a trusted mirror or a test hub)
          --max-file-bytes N          largest file accepted (default 2 GiB; tokenizer/config files at most 64 MiB)
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        string? repository = null, revision = null, name = null;
        string modelsPath = "models", precision = "fp32";
        var endpoint = Environment.GetEnvironmentVariable("HF_ENDPOINT") ?? FetchRequest.DefaultEndpoint;
        var force = false;
        var allowInsecure = false;
        var maxFileBytes = FetchRequest.DefaultMaxFileBytes;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            try
            {
                switch (args[i])
                {
                    case "--revision": revision = Value(); break;
                    case "--precision": precision = Value(); break;
                    case "--models-path": modelsPath = Value(); break;
                    case "--name": name = Value(); break;
                    case "--endpoint": endpoint = Value(); break;
                    case "--force": force = true; break;
                    case "--allow-insecure-endpoint": allowInsecure = true; break;
                    case "--max-file-bytes":
                        maxFileBytes = long.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && bytes > 0
                            ? bytes : throw new ArgumentException("--max-file-bytes needs a positive whole number.");
                        break;
                    case "-h" or "--help":
                        await output.WriteLineAsync(Help);
                        return 0;
                    case var positional when !positional.StartsWith('-') && repository is null: repository = positional; break;
                    default:
                        await error.WriteLineAsync($"fetch-model: unknown argument '{args[i]}'.\n{Help}");
                        return 2;
                }
            }
            catch (ArgumentException e)
            {
                await error.WriteLineAsync($"fetch-model: {e.Message}");
                return 2;
            }
        }

        repository ??= FetchRequest.XenovaClipB32;
        var known = PinnedModels.Find(repository);
        if (revision is null && known is null)
        {
            await error.WriteLineAsync($"fetch-model: give --revision <commit> for {repository}; a branch name is not a pin.");
            return 2;
        }

        var resolveBranch = revision is null && known!.RevisionIsBranch;
        revision ??= known!.Revision;
        Uri hub;
        IReadOnlyList<string>? files;
        try
        {
            HubNames.ValidateRepository(repository);
            if (!resolveBranch)
                revision = HubNames.ValidateRevision(revision);
            // The default CLIP keeps its own selection (both encoders and whichever tokenizer files the tree has,
            // every one pinned); the other known repositories fetch exactly their file list.
            files = known is { EveryFilePinned: false } ? known.FilesFor(precision) : null;
            if (known is { EveryFilePinned: true })
                ModelFetcher.PrecisionSuffix(precision);
            HubNames.ValidateFolderName(name ?? repository.Split('/')[^1]);
            hub = HubNames.ValidateEndpoint(endpoint, allowInsecure);
        }
        catch (ArgumentException e)
        {
            await error.WriteLineAsync($"fetch-model: {e.Message}");
            return 2;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
        var fetcher = new ModelFetcher(http, hub, output);
        try
        {
            if (resolveBranch)
            {
                var branch = revision;
                revision = await fetcher.ResolveBranchAsync(repository, branch, cancellationToken);
                await output.WriteLineAsync($"{repository}: {branch} is at commit {revision}; the code pins this repository's file list, not its digests.");
            }

            var pinned = PinnedModels.For(repository, revision);
            var pin = known is null ? "no pin in the code (the hub's tree listing only)"
                : pinned is null ? "file list pinned in the code, no digest for this commit (the hub's tree listing vouches for the files)"
                : known.PinDescription;
            await output.WriteLineAsync($"Fetching {repository}@{revision} ({precision}) from {hub}; {pin}");
            var request = new FetchRequest(repository, revision, modelsPath, precision, name, force)
            {
                MaxFileBytes = maxFileBytes,
                Pinned = pinned,
                EveryFilePinned = known?.EveryFilePinned ?? true,
                Files = files,
                PinDescription = pin,
            };
            var folder = await fetcher.FetchAsync(request, cancellationToken);
            if (known?.AfterFetch is { } next)
            {
                await output.WriteLineAsync($"Verified and saved to {folder}.");
                await output.WriteLineAsync("Next: " + string.Format(CultureInfo.InvariantCulture, next, folder));
                if (!known.ServableAsFetched)
                    return 0;
            }
            else
            {
                await output.WriteLineAsync($"Verified and saved to {folder}.");
            }

            await output.WriteLineAsync($"Serve it with: dotnet run --project src/ClipService -- --Clip:DefaultModel={Path.GetFileName(folder)}");
            return 0;
        }
        catch (Exception e) when (e is HttpRequestException or InvalidDataException or InvalidOperationException or ArgumentException or IOException
            or UnauthorizedAccessException or System.Text.Json.JsonException or TaskCanceledException)
        {
            await error.WriteLineAsync($"fetch-model failed: {e.Message}");
            return 1;
        }
    }
}
