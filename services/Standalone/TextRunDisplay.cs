using System.Diagnostics;
using System.Globalization;

namespace Treecast.Standalone;

/// <summary>Timestamped lines, and a progress line a second (bytes, rate, ETA): readable in a log file or a pipe.</summary>
public sealed class TextRunDisplay(TextWriter console) : IRunDisplay
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public void Say(TimeSpan elapsed, string line)
    {
        var seconds = elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture);
        lock (console)
        {
            console.WriteLine($"[{seconds,7}s] {line}");
        }
    }

    public async Task ShowProgressAsync(RunObserver observer, CancellationToken cancellationToken)
    {
        long lastBytes = 0;
        var lastAt = _clock.Elapsed;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                var (bytes, total) = observer.Progress();
                if (bytes == 0 || bytes == lastBytes)
                {
                    continue;
                }

                var now = _clock.Elapsed;
                var rate = Format.Rate(bytes - lastBytes, now - lastAt);
                var perSecond = (bytes - lastBytes) / (now - lastAt).TotalSeconds;
                var tree = observer.Tree?.Nodes.Count - 1 ?? 0;
                var verified = $"verified {observer.VerifiedCount}/{tree} VMMs";
                Say(now, total == 0
                    ? $"transfer {Format.Bytes(bytes)} (total not known until the root's images are sealed)  {rate}  {verified}"
                    : $"transfer {100.0 * bytes / total,5:0.0}%  {Format.Bytes(bytes)} of {Format.Bytes(total)}  {rate}  "
                        + $"ETA {Format.Eta(total - bytes, perSecond)}  {verified}");
                lastBytes = bytes;
                lastAt = now;
            }
        }
        catch (OperationCanceledException)
        {
            // The outcome arrived; stop drawing.
        }
    }
}
