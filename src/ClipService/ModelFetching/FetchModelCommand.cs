using System.Globalization;

namespace ClipService.ModelFetching;

/// <summary>`ClipService fetch-model [repo] [options]`: downloads a real CLIP into the models folder.</summary>
public static class FetchModelCommand
{
    public const string Name = "fetch-model";

    public const string Help = """
        ClipService fetch-model [REPOSITORY] [options]
          Downloads a CLIP model folder (Hugging Face / transformers.js layout) into the models folder,
          at a pinned revision, verifying every file against the hashes published for that revision.
          REPOSITORY   default Xenova/clip-vit-base-patch32 (at revision d15189d7028b43f1d3e65039190477f6af591c2a,
                       whose file hashes are also pinned in the code); NAME or NAMESPACE/NAME as on the hub
          --revision R   commit (40 hex digits) to fetch; required for other repositories: a branch is not a pin
          --precision P  fp32 (default), fp16 or quantized: which onnx/*_model*.onnx files to fetch
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
        if (revision is null && repository != FetchRequest.XenovaClipB32)
        {
            await error.WriteLineAsync($"fetch-model: give --revision <commit> for {repository}; a branch name is not a pin.");
            return 2;
        }

        revision ??= FetchRequest.XenovaClipB32Revision;
        Uri hub;
        try
        {
            HubNames.ValidateRepository(repository);
            revision = HubNames.ValidateRevision(revision);
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
            await output.WriteLineAsync($"Fetching {repository}@{revision} ({precision}) from {hub}");
            var request = new FetchRequest(repository, revision, modelsPath, precision, name, force)
            {
                MaxFileBytes = maxFileBytes,
                Pinned = PinnedModels.For(repository, revision),
            };
            var folder = await fetcher.FetchAsync(request, cancellationToken);
            await output.WriteLineAsync($"Verified and saved to {folder}. Serve it with: dotnet run --project src/ClipService -- --Clip:DefaultModel={Path.GetFileName(folder)}");
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
