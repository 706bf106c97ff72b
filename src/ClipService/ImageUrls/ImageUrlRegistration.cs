using ClipService.Admission;
using ClipService.Requests;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace ClipService.ImageUrls;

public static class ImageUrlRegistration
{
    /// <summary>The URL fetcher behind <see cref="IImageUrlFetcher"/>: its own HttpClient (no proxy, no automatic
    /// redirects, connections only to permitted addresses) with a retry for transient failures.</summary>
    public static IServiceCollection AddImageUrls(this IServiceCollection services)
    {
        services.AddSingleton<IImageUrlFetcher, ImageUrlFetcher>();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ImageUrlOptions>>().Value;
            return new FetchBudget(options.MaxConcurrentFetches, options.MaxBytesInFlight);
        });
        services.AddHttpClient(ImageUrlFetcher.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp =>
            {
                var options = sp.GetRequiredService<IOptions<ImageUrlOptions>>().Value;
                return new SocketsHttpHandler
                {
                    UseProxy = false,
                    AllowAutoRedirect = false,
                    UseCookies = false,
                    ConnectTimeout = TimeSpan.FromSeconds(options.TimeoutSeconds),
                    ConnectCallback = (context, token) => NetworkAddresses.ConnectAsync(context.DnsEndPoint, options.AllowPrivateNetworks, token),
                };
            })
            .AddResilienceHandler("image-url-retry", pipeline => pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = 2,
                Delay = TimeSpan.FromMilliseconds(200),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                // A refused address stays refused; everything else transient (5xx, 408, 429, connection errors) is retried.
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is not HttpRequestException { InnerException: ForbiddenAddressException }
                    && HttpClientResiliencePredicates.IsTransient(args.Outcome)),
            }));
        return services;
    }
}
