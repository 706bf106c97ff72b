using System.Diagnostics.Metrics;
using ClipService.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace ClipService.Tests;

internal static class TestMetrics
{
    /// <summary>The service's instruments on a meter of their own, for components built without a host.</summary>
    public static ClipMetrics Create() =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
}
