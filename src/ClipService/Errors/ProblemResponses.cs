namespace ClipService.Errors;

public static class ProblemResponses
{
    /// <summary>ProblemDetails for every error, through <see cref="ProblemExceptionHandler"/>.</summary>
    public static IServiceCollection AddProblemResponses(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.Configure<ExceptionHandlerOptions>(options =>
            options.SuppressDiagnosticsCallback = context => !ProblemMapping.NeedsErrorLog(context.Exception, context.HttpContext.RequestAborted.IsCancellationRequested));
        return services;
    }
}
