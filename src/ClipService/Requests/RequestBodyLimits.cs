using ClipService.Errors;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace ClipService.Requests;

/// <summary><see cref="RequestLimitsOptions.MaxRequestBytes"/> applied to the form reader and to declared lengths before
/// anything is read (Kestrel's own limit is set from the same options by Limits.ConnectionLimits).</summary>
public static class RequestBodyLimits
{
    public static IServiceCollection AddRequestBodyLimits(this IServiceCollection services)
    {
        services.AddOptions<FormOptions>().Configure<IOptions<RequestLimitsOptions>>((form, limits) =>
            form.MultipartBodyLengthLimit = limits.Value.MaxRequestBytes);
        return services;
    }

    /// <summary>Refuses a declared oversized body before reading it (Kestrel enforces the same limit on undeclared ones).</summary>
    public static IApplicationBuilder UseRequestBodyLimits(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            var limit = context.RequestServices.GetRequiredService<IOptions<RequestLimitsOptions>>().Value.MaxRequestBytes;
            return context.Request.ContentLength > limit ? throw new PayloadTooLargeException(limit) : next(context);
        });
}
