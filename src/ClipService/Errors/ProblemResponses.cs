namespace ClipService.Errors;

public static class ProblemResponses
{
    /// <summary>ProblemDetails for every error, through <see cref="ProblemExceptionHandler"/>.</summary>
    public static IServiceCollection AddProblemResponses(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.Configure<ExceptionHandlerOptions>(options =>
            options.SuppressDiagnosticsCallback = context => !ProblemMapping.NeedsErrorLog(ProblemMapping.For(context.Exception, context.HttpContext)));
        return services;
    }
}
