using System.Diagnostics;

namespace ClipService.Evaluation;

/// <summary>
/// Done/total, images per second and time left: a bar redrawn in place on a terminal, a plain line every few seconds
/// when the output is a file or a pipe (CI logs, scripts).
/// </summary>
public sealed class EvaluationProgress(TextWriter writer, bool terminal, int total)
{
    private static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan BarInterval = TimeSpan.FromMilliseconds(200);

    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly Lock _lock = new();
    private int _done;
    private long _lastWritten;
    private bool _barShown;

    public int Done => Volatile.Read(ref _done);

    public void Advance()
    {
        var done = Interlocked.Increment(ref _done);
        var now = Stopwatch.GetTimestamp();
        if (Stopwatch.GetElapsedTime(Volatile.Read(ref _lastWritten), now) < (terminal ? BarInterval : LineInterval) && done < total)
            return;
        lock (_lock)
        {
            if (Stopwatch.GetElapsedTime(_lastWritten, now) < (terminal ? BarInterval : LineInterval) && done < total)
                return;
            _lastWritten = now;
            Write(done);
        }
    }

    /// <summary>Ends the bar's line (on a terminal) so what follows starts on its own.</summary>
    public void Finish()
    {
        lock (_lock)
        {
            if (terminal && _barShown)
                writer.WriteLine();
            writer.Flush();
        }
    }

    private void Write(int done)
    {
        var elapsed = Stopwatch.GetElapsedTime(_started).TotalSeconds;
        var rate = elapsed > 0 ? done / elapsed : 0;
        var left = rate > 0 ? TimeSpan.FromSeconds((total - done) / rate) : TimeSpan.Zero;
        var eta = left.TotalHours >= 1 ? left.ToString(@"h\:mm\:ss", null) : left.ToString(@"m\:ss", null);
        var figures = FormattableString.Invariant($"{done}/{total} images, {rate:F1} img/s, ETA {eta}");
        if (terminal)
        {
            const int width = 30;
            var filled = total == 0 ? width : (int)((long)done * width / total);
            writer.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {figures}   ");
            _barShown = true;
        }
        else
            writer.WriteLine($"evaluate: {figures}");
        writer.Flush();
    }
}
