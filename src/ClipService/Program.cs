using ClipService.Hosting;

if (await CommandLine.TryRunCommandAsync(args) is { } exitCode)
    return exitCode;

return await StartupFailure.RunAsync(args,
    builder =>
    {
        builder.AddServiceDefaults();
        builder.AddClipFeatures();
    },
    app =>
    {
        app.UseServiceDefaults();
        app.MapClipEndpoints();
    });

/// <summary>Entry point, public so WebApplicationFactory can host it in tests.</summary>
public partial class Program;
