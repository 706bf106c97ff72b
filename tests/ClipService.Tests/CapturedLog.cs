using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;

namespace ClipService.Tests;

/// <summary>
/// The log events of one in-memory host, as Serilog renders them: registered as a sink in its services (the service's
/// Serilog reads sinks from there), so tests do not share it.
/// </summary>
internal sealed class CapturedLog : ILogEventSink
{
    private readonly ConcurrentQueue<(LogEventLevel Level, string Message)> _events = new();

    public IReadOnlyList<(LogEventLevel Level, string Message)> Events => [.. _events];

    public void Emit(LogEvent logEvent) => _events.Enqueue((logEvent.Level, Render(logEvent)));

    // As the console writes it ({Message:lj}): strings without quotes.
    private static string Render(LogEvent logEvent)
    {
        using var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var token in logEvent.MessageTemplate.Tokens)
        {
            if (token is PropertyToken property && logEvent.Properties.TryGetValue(property.PropertyName, out var value)
                && value is ScalarValue { Value: string raw })
                text.Write(raw);
            else
                token.Render(logEvent.Properties, text, System.Globalization.CultureInfo.InvariantCulture);
        }

        return text.ToString();
    }

    public void Register(IServiceCollection services) => services.AddSingleton<ILogEventSink>(this);

    /// <summary>Messages at <paramref name="level"/> containing <paramref name="text"/>.</summary>
    public List<string> Find(LogEventLevel level, string text) =>
        [.. Events.Where(e => e.Level == level && e.Message.Contains(text, StringComparison.Ordinal)).Select(e => e.Message)];

    /// <summary>Waits until <paramref name="count"/> messages at <paramref name="level"/> contain <paramref name="text"/>.</summary>
    public async Task<List<string>> WaitForAsync(LogEventLevel level, string text, int count = 1, int timeoutSeconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (Find(level, text).Count < count && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        return Find(level, text);
    }
}
