using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace ClipService.DemoPage;

/// <summary>
/// The try-it page at /: static files compiled into the assembly from wwwroot, so the page is there however the
/// service is started (dotnet run from any folder, the published binary, the container) and needs nothing outside.
/// </summary>
public static class DemoPageApi
{
    private const string ResourcePrefix = $"{nameof(ClipService)}.wwwroot";

    // The page asks for nothing but its own origin; the browser enforces it, so a stray CDN reference fails loudly.
    private const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public static WebApplication MapDemoPage(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<DemoPageOptions>>();
        var files = new EmbeddedFileProvider(typeof(DemoPageApi).Assembly, ResourcePrefix);

        // Static files answer only requests no endpoint matched, so the page can never shadow an API route. The switch
        // is read per request from the validated options (an invalid value has already stopped the service at start).
        app.UseWhen(_ => options.Value.EnableDemoPage, page => page
            .UseDefaultFiles(new DefaultFilesOptions { FileProvider = files })
            .UseStaticFiles(new StaticFileOptions
            {
                FileProvider = files,
                OnPrepareResponse = context =>
                {
                    var headers = context.Context.Response.Headers;
                    headers.ContentSecurityPolicy = ContentSecurityPolicy;
                    headers.XContentTypeOptions = "nosniff";
                    // Revalidate (a cheap 304) so a new version of the service never runs with a cached old page.
                    headers.CacheControl = "no-cache";
                },
            }));
        return app;
    }
}
