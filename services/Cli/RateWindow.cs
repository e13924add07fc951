namespace Treecast.Cli;

/// <summary>Bytes per second over the last few seconds of one VMM's reports.</summary>
public sealed class RateWindow
{
    private static readonly TimeSpan Span = TimeSpan.FromSeconds(3);
    private readonly Queue<(long At, long Bytes)> _samples = new();

    public double Add(long bytes)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        _samples.Enqueue((now, bytes));
        while (_samples.Count > 2 && System.Diagnostics.Stopwatch.GetElapsedTime(_samples.Peek().At, now) > Span)
        {
            _samples.Dequeue();
        }

        var (firstAt, firstBytes) = _samples.Peek();
        var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(firstAt, now).TotalSeconds;
        return seconds < 0.5 ? 0 : (bytes - firstBytes) / seconds;
    }
}
