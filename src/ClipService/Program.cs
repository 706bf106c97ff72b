using ClipService.Hosting;

if (await CommandLine.TryRunCommandAsync(args) is { } exitCode)
    return exitCode;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddClipFeatures();

var app = builder.Build();
app.UseServiceDefaults();
app.MapClipEndpoints();

return await app.RunUntilStartupFailureAsync();

/// <summary>Entry point, public so WebApplicationFactory can host it in tests.</summary>
public partial class Program;
