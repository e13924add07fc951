using System.Globalization;

namespace Treecast.Standalone;

/// <summary>Human-readable sizes and rates for the console.</summary>
public static class Format
{
    public static string Bytes(double bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (1L << 30)).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (1L << 10)).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString("0", CultureInfo.InvariantCulture) + " B",
    };

    public static string Rate(double bytes, TimeSpan elapsed) =>
        elapsed <= TimeSpan.Zero ? "-" : Bytes(bytes / elapsed.TotalSeconds) + "/s";

    /// <summary>Time left at <paramref name="bytesPerSecond"/>, as <c>m:ss</c>; "-" when nothing moves.</summary>
    public static string Eta(double bytesLeft, double bytesPerSecond) =>
        bytesPerSecond <= 0 || !double.IsFinite(bytesPerSecond)
            ? "-"
            : TimeSpan.FromSeconds(Math.Ceiling(Math.Max(0, bytesLeft) / bytesPerSecond)).ToString(@"m\:ss", CultureInfo.InvariantCulture);
}
