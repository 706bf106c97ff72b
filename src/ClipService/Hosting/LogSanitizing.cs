using System.Globalization;
using System.Text;
using Serilog.Core;
using Serilog.Events;

namespace ClipService.Hosting;

/// <summary>
/// Makes every logged value safe to print: control characters (CR and LF above all, which would let a request
/// path or a label forge a log line in the text console format) become visible escapes such as <c>\r\n</c>, and a
/// value longer than <see cref="MaxValueLength"/> characters is cut (a client's megabyte-long field is not copied
/// into every log line). Applies to every property of every event, whichever format the sink writes.
/// </summary>
public sealed class LogSanitizing : ILogEventEnricher
{
    /// <summary>Longest value logged whole.</summary>
    public const int MaxValueLength = 2048;

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        List<LogEventProperty>? replaced = null;
        foreach (var (name, value) in logEvent.Properties)
        {
            var safe = Sanitize(value);
            if (!ReferenceEquals(safe, value))
                (replaced ??= []).Add(new LogEventProperty(name, safe));
        }

        if (replaced is null)
            return;
        foreach (var property in replaced)
            logEvent.AddOrUpdateProperty(property);
    }

    private static LogEventPropertyValue Sanitize(LogEventPropertyValue value) => value switch
    {
        ScalarValue { Value: string text } when NeedsSanitizing(text) => new ScalarValue(Sanitize(text)),
        SequenceValue sequence when sequence.Elements.Select(Sanitize).ToList() is var elements
            && !elements.SequenceEqual(sequence.Elements) => new SequenceValue(elements),
        StructureValue structure when structure.Properties.Select(p => new LogEventProperty(p.Name, Sanitize(p.Value))).ToList() is var properties
            && !properties.Select(p => p.Value).SequenceEqual(structure.Properties.Select(p => p.Value)) => new StructureValue(properties, structure.TypeTag),
        DictionaryValue dictionary when dictionary.Elements.Select(e => KeyValuePair.Create(e.Key, Sanitize(e.Value))).ToList() is var entries
            && !entries.Select(e => e.Value).SequenceEqual(dictionary.Elements.Select(e => e.Value)) => new DictionaryValue(entries),
        _ => value,
    };

    private static bool NeedsSanitizing(string text)
    {
        if (text.Length > MaxValueLength)
            return true;
        foreach (var c in text)
        {
            if (IsUnsafe(c))
                return true;
        }

        return false;
    }

    // C0 and C1 controls (CR, LF, ESC, NEL...) and the Unicode line and paragraph separators.
    private static bool IsUnsafe(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';

    /// <summary>The text with control characters escaped and cut to <see cref="MaxValueLength"/> characters.</summary>
    public static string Sanitize(string text)
    {
        var shown = text.AsSpan(0, Math.Min(text.Length, MaxValueLength));
        var result = new StringBuilder(shown.Length + 16);
        foreach (var c in shown)
        {
            switch (c)
            {
                case '\r': result.Append("\\r"); break;
                case '\n': result.Append("\\n"); break;
                case '\t': result.Append("\\t"); break;
                case var _ when IsUnsafe(c): result.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                default: result.Append(c); break;
            }
        }

        if (text.Length > MaxValueLength)
            result.Append(CultureInfo.InvariantCulture, $"… ({text.Length:N0} characters)");
        return result.ToString();
    }
}
