namespace ClipService.ModelFetching;

/// <summary>`ClipService fetch-model [repo] [options]`: downloads a real CLIP into the models folder.</summary>
public static class FetchModelCommand
{
    public const string Name = "fetch-model";

    public const string Help = """
        ClipService fetch-model [REPOSITORY] [options]
          Downloads a CLIP model folder (Hugging Face / transformers.js layout) into the models folder,
          at a pinned revision, verifying every file against the hashes published for that revision.
          REPOSITORY   default Xenova/clip-vit-base-patch32 (at revision d15189d7028b43f1d3e65039190477f6af591c2a)
          --revision R   commit to fetch (required for other repositories: pin a commit, not a branch)
          --precision P  fp32 (default), fp16 or quantized: which onnx/*_model*.onnx files to fetch
          --models-path  target folder (default: models)
          --name N       folder name (default: the repository's name)
          --force        replace an existing folder
          --endpoint U   hub address (default https://huggingface.co; env HF_ENDPOINT)
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        string? repository = null, revision = null, name = null;
        string modelsPath = "models", precision = "fp32";
        var endpoint = Environment.GetEnvironmentVariable("HF_ENDPOINT") ?? FetchRequest.DefaultEndpoint;
        var force = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--revision": revision = Value(); break;
                case "--precision": precision = Value(); break;
                case "--models-path": modelsPath = Value(); break;
                case "--name": name = Value(); break;
                case "--endpoint": endpoint = Value(); break;
                case "--force": force = true; break;
                case "-h" or "--help":
                    await output.WriteLineAsync(Help);
                    return 0;
                case var positional when !positional.StartsWith('-') && repository is null: repository = positional; break;
                default:
                    await error.WriteLineAsync($"fetch-model: unknown argument '{args[i]}'.\n{Help}");
                    return 2;
            }
        }

        repository ??= FetchRequest.XenovaClipB32;
        if (revision is null)
        {
            if (repository != FetchRequest.XenovaClipB32)
            {
                await error.WriteLineAsync($"fetch-model: give --revision <commit> for {repository}; a branch name is not a pin.");
                return 2;
            }

            revision = FetchRequest.XenovaClipB32Revision;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
        var fetcher = new ModelFetcher(http, new Uri(endpoint.TrimEnd('/') + "/"), output);
        try
        {
            await output.WriteLineAsync($"Fetching {repository}@{revision} ({precision}) from {endpoint}");
            var folder = await fetcher.FetchAsync(new FetchRequest(repository, revision, modelsPath, precision, name, force), cancellationToken);
            await output.WriteLineAsync($"Verified and saved to {folder}. Serve it with: dotnet run --project src/ClipService -- --Clip:DefaultModel={Path.GetFileName(folder)}");
            return 0;
        }
        catch (Exception e) when (e is HttpRequestException or InvalidDataException or InvalidOperationException or ArgumentException or IOException)
        {
            await error.WriteLineAsync($"fetch-model failed: {e.Message}");
            return 1;
        }
    }
}
