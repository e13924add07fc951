namespace Treecast.Agent.Tests.Support;

/// <summary>
/// This process's peak resident memory from the moment it is made: Linux's high-water mark (<c>VmHWM</c>), reset first
/// through <c>/proc/self/clear_refs</c>, so an earlier peak (building the images, a previous transfer) does not count.
/// </summary>
public sealed class PeakResidentMemory
{
    private const string Status = "/proc/self/status";

    public PeakResidentMemory()
    {
        try
        {
            // "5" resets the peak to the current resident size.
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or not allowed: Bytes reports the process's lifetime peak, or nothing.
        }
    }

    /// <summary>The peak since this was made, in bytes; null where <c>/proc</c> does not tell.</summary>
    public long? Bytes
    {
        get
        {
            if (!File.Exists(Status))
            {
                return null;
            }

            var line = File.ReadLines(Status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
    }
}
