using Treecast.Standalone;

namespace Treecast.Cli;

/// <summary>One <see cref="RateWindow"/> per VMM, and the bar label both live displays show: <c>host-03  12.3 MiB/s ETA 0:07</c>.</summary>
public sealed class RateWindows
{
    private readonly Dictionary<string, RateWindow> _windows = new(StringComparer.Ordinal);

    /// <summary>Adds <paramref name="bytes"/> as the VMM's latest report and labels it with the rate and the time left to <paramref name="total"/> (0: unknown).</summary>
    public string Label(string vmmId, long bytes, long total)
    {
        if (!_windows.TryGetValue(vmmId, out var window))
        {
            _windows[vmmId] = window = new RateWindow();
        }

        var rate = window.Add(bytes);
        var eta = total > 0 ? Format.Eta(total - bytes, rate) : "-";
        return $"{vmmId} {Format.Bytes(rate) + "/s",12} ETA {eta,5}";
    }
}
