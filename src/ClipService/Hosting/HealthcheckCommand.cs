namespace ClipService.Hosting;

/// <summary>
/// <c>ClipService healthcheck</c>: GETs /health/live on the address the service is configured to listen on and exits
/// 0 when it answers 200, 1 otherwise. The container's HEALTHCHECK runs it, so the image needs no curl or shell.
/// </summary>
public static class HealthcheckCommand
{
    public const string Name = "healthcheck";
    public const string LivenessPath = "/health/live";
    // Inside the image's HEALTHCHECK --timeout (10 s), so a slow answer is reported rather than killed silently.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(8);

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        // The same sources, in the same order, as the server's own configuration for its listening address.
        var configuration = new ConfigurationBuilder()
            .AddEnvironmentVariables("DOTNET_")
            .AddEnvironmentVariables("ASPNETCORE_")
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args)
            .Build();
        Uri target;
        try
        {
            target = new Uri(ListeningAddress.LocalUri(configuration), LivenessPath);
        }
        catch (FormatException e)
        {
            await error.WriteLineAsync($"unhealthy: the listening address is not usable ({e.Message})");
            return 1;
        }

        // Only ever the service's own loopback address: its development certificate is not trusted by the client.
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        using var client = new HttpClient(handler) { Timeout = Timeout };
        try
        {
            using var response = await client.GetAsync(target, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                await output.WriteLineAsync($"healthy: {target} answered {(int)response.StatusCode}");
                return 0;
            }

            await error.WriteLineAsync($"unhealthy: {target} answered {(int)response.StatusCode}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await error.WriteLineAsync($"unhealthy: {target} unreachable ({e.Message})");
        }

        return 1;
    }
}
