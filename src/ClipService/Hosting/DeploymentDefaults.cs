using Microsoft.Extensions.Options;

namespace ClipService.Hosting;

/// <summary>How the process behaves as a deployed replica: where it listens and how it drains when stopped.</summary>
public static class DeploymentDefaults
{
    public static WebApplicationBuilder AddDeploymentDefaults(this WebApplicationBuilder builder)
    {
        builder.UseDefaultListeningAddress();

        builder.Services.AddOptionsWithValidateOnStart<ShutdownOptions>()
            .Bind(builder.Configuration.GetSection(ShutdownOptions.SectionName));
        builder.Services.AddSingleton<IValidateOptions<ShutdownOptions>, ShutdownOptionsRangeValidator>();
        builder.Services.AddSingleton<IValidateOptions<ShutdownOptions>, ShutdownOptionsValidator>();
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<ShutdownOptions>>((host, shutdown) =>
        {
            // The host is built before options are validated on start; an invalid section is reported there, in one
            // line, so here it only keeps the host's default.
            try
            {
                host.ShutdownTimeout = shutdown.Value.Total;
            }
            catch (Exception e) when (e is OptionsValidationException or InvalidOperationException)
            {
            }
        });
        builder.Services.AddSingleton<DrainState>();
        builder.Services.AddHostedService<GracefulDrain>();
        builder.Services.AddTransient<IStartupFilter, DrainTrackingStartupFilter>();
        return builder;
    }

    /// <summary>Counts every request from the outermost point of the pipeline.</summary>
    private sealed class DrainTrackingStartupFilter(DrainState state) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(state.TrackAsync);
            next(app);
        };
    }
}
