using ClipService.Evaluation;
using ClipService.LabelSets;
using ClipService.ModelFetching;

namespace ClipService.Hosting;

/// <summary>The commands besides serving: --help, fetch-model, precompute-label-sets, evaluate and healthcheck.</summary>
public static class CommandLine
{
    public const string Help = """
        ClipService: CLIP zero-shot image classification over HTTP.

        Usage:
          ClipService [--urls URL] [--Clip:Setting=value ...]   serve (default http://localhost:8080; --urls,
                                                               ASPNETCORE_URLS and ASPNETCORE_HTTP_PORTS override it)
          ClipService fetch-model [REPOSITORY] [options]       download a real CLIP into models/ (see fetch-model --help)
          ClipService healthcheck [--urls URL]                 exit 0 if /health/live on the configured address answers 200
          ClipService precompute-label-sets [options]          embed label sets into Clip:LabelSets:CachePath ahead of
                                                               time (see precompute-label-sets --help)
          ClipService evaluate --data DIR [options]            zero-shot accuracy on your labelled images: models ×
                                                               templates, report.json/.html (see evaluate --help)
          ClipService --help

        Common settings (also appsettings.json, or environment variables such as Clip__ModelsPath):
          --Clip:ModelsPath=PATH                  folder of model folders (default: models)
          --Clip:DefaultModel=NAME                model used when a request names none
          --Clip:Precision=Default|Fp16|Quantized which encoder files to load
          --Clip:ExecutionProvider:Provider=Cpu|Cuda   with :DeviceId=N and :RequireCuda=true|false
          --Clip:ExecutionProvider:IntraOpThreads=N    ONNX Runtime threads per run (0: one per core)
          --Clip:ExecutionProvider:Spinning=Auto|Off|DuringRuns|Always   when ONNX Runtime threads busy-wait (Auto: during runs for encoders of 32 MB or more)
          --Clip:ExecutionProvider:IoBinding=Auto|Always|Never   IOBinding with pinned buffers (Auto: on CUDA)
          --Clip:Inference:MaxQueuedRequests=N    waiting requests before 503 (default 256)
          --Clip:Inference:RequestTimeoutSeconds=N     longest wait for an encoder (default 30)
          --Clip:ImageDecoding:MaxConcurrentDecodes=N  images decoded at once per model (default 0: one per core)
          --Clip:ImageDecoding:FastJpegScaling=true    decode large JPEGs at reduced scale (faster, not exact)
          --Clip:ImageDecoding:JpegDecoder=Auto|TurboJpeg|Skia   JPEG pixels from the system's libjpeg-turbo (SIMD) or Skia's (default Auto)
          --Clip:Batching:MaxBatchSize=N          images per encoder call (default 0: 8 on the CPU, 32 on a GPU)
          --Clip:Batching:MaxBatchDelayMs=N       wait for a batch to fill (default 0: take what is queued)
          --Clip:Batching:MaxQueuedImages=N       images waiting per model before 503 (default 256)
          --Clip:Batching:MaxTextBatchSize=N      prompts per text-encoder call (default 32)
          --Clip:Admission:MaxRequestsPerModel=N  encoding requests per model in any stage before 503, refused
                                                  before the body is read (default 0: queue + one batch)
          --Clip:TextCache:MaxMegabytes=N         text-embedding cache size (default 64)
          --Clip:TextCache:MaxPercentPerRequest=N share of the cache one request's new texts may fill (default 25)
          --Clip:MaxRequestBytes=N                largest request body (default 20 MiB)
          --Clip:Connections:MaxConcurrentConnections=N      open connections at once (default 1000)
          --Clip:Connections:MinRequestBodyBytesPerSecond=N  slowest upload accepted (default 16384, after
                                                  MinRequestBodyGraceSeconds, default 5); each request's deadline is
                                                  grace + MaxRequestBytes at that rate + ProcessingAllowanceSeconds (60)
          --Clip:MaxImagesPerRequest=N            images per /classify/batch or /v1/embeddings (default 32)
          --Clip:MaxLabelLength=N                 longest label or text in characters (default 4096; longer
                                                  than the context is truncated, end token kept)
          --Clip:LabelSetsPath=PATH               folder of NAME.json label sets (re-read on change)
          --Clip:PrecomputeLabelSets=auto|true|false   embed the default model's label sets on one thread while the
                                                  encoder is idle (auto: when estimated at most
                                                  Clip:LabelSets:AutoPrecomputeMaxCpuSeconds, default 180)
          --Clip:LabelSets:CachePath=DIR          keep label-set embeddings there (shared by restarts and replicas)
          --Clip:ImageUrls:Enabled=true           accept http(s) image URLs, with
          --Clip:ImageUrls:AllowedHosts:0=HOST    ... the hosts allowed (required), :AllowPrivateNetworks=true,
                                                  :MaxBytes=N, :TimeoutSeconds=N, :MaxRedirects=N
          --Clip:Shutdown:DrainDelaySeconds=N     on SIGTERM: readiness 503 while still serving (default 5)
          --Clip:Shutdown:TimeoutSeconds=N        then in-flight requests get this long (default 45; exit 3 if cut off)
          --Clip:EnableSwagger=true|false         Swagger UI at /swagger (turn off on public deployments)
          --Clip:EnableDemoPage=true|false        the try-it page at /
          --Clip:Auth:ApiKeys:0=KEY               require an API key (Authorization: Bearer KEY or X-API-Key: KEY);
                                                  :1, :2 ... for more; at least 16 characters
          --Clip:Auth:ApiKeysFile=PATH            keys one per line, re-read when the file changes
          --Clip:RateLimiting:PermitsPerMinute=N  requests per minute per client (key, else address); 0: off
          --Clip:RateLimiting:TrustedProxies:0=IP proxy whose X-Forwarded-For names the client
          --Clip:Cors:AllowedOrigins:0=ORIGIN     browser origin allowed to call the API (CORS; none: off)
          --Clip:Metrics:RequireApiKey=true|false /metrics needs the API key too (default false)
          OTEL_EXPORTER_OTLP_ENDPOINT=URL         (environment) export traces over OTLP
          --Logging:Json=true                     compact JSON logs (the container sets it)

        Endpoints: POST /classify, POST /classify/batch, GET /label-sets, POST /embed/image, POST /embed/text,
                   POST /v1/embeddings, GET /v1/models, GET /models,
                   GET /health/live, GET /health/ready, GET /metrics (Prometheus), Swagger UI at /swagger,
                   the try-it page at /.
        """;

    /// <summary>Runs a command if <paramref name="args"/> names one.</summary>
    /// <returns>The exit code, or null when the service should be started.</returns>
    public static async Task<int?> TryRunCommandAsync(string[] args)
    {
        if (args is ["--help" or "-h" or "-?", ..])
        {
            await Console.Out.WriteLineAsync(Help);
            return 0;
        }

        if (args is [FetchModelCommand.Name, .. var rest])
            return await FetchModelCommand.RunAsync(rest, Console.Out, Console.Error, CancellationToken.None);
        if (args is [PrecomputeLabelSetsCommand.Name, .. var precompute])
            return await PrecomputeLabelSetsCommand.RunAsync(precompute, Console.Out, Console.Error, CancellationToken.None);
        if (args is [EvaluateCommand.Name, .. var evaluate])
            return await EvaluateCommand.RunAsync(evaluate, Console.Out, Console.Error, CancellationToken.None);
        if (args is [HealthcheckCommand.Name, .. var options])
            return await HealthcheckCommand.RunAsync(options, Console.Out, Console.Error, CancellationToken.None);
        return null;
    }
}
