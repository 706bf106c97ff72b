using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ClipService.OpenAi;

public static class OpenAiRegistration
{
    /// <summary>
    /// OpenAI's error shape for /v1/*. The problem-details service asks its writers in registration order and the
    /// first that can write wins, so this one goes before the default writer that AddProblemDetails registered.
    /// </summary>
    public static IServiceCollection AddOpenAiErrors(this IServiceCollection services)
    {
        var writer = ServiceDescriptor.Singleton<IProblemDetailsWriter, OpenAiErrorWriter>();
        var first = services.IndexOf(services.FirstOrDefault(d => d.ServiceType == typeof(IProblemDetailsWriter))!);
        if (first >= 0)
            services.Insert(first, writer);
        else
            services.TryAddEnumerable(writer);
        return services;
    }
}
