using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Treecast.Bench.Loopback;

/// <summary>
/// Tallies the runtime's allocation samples (one GC AllocationTick about every 100 KB allocated, naming the type that
/// crossed it) by type and by small or large object heap. A relay that allocates little per chunk keeps its GC heap
/// and its collections small; this says which types are the rest.
/// </summary>
public sealed class AllocationTally : EventListener
{
    private readonly ConcurrentDictionary<string, long> _bytes = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            // GC keyword (0x1) at verbose level carries AllocationTick.
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.Payload is null)
        {
            return;
        }

        var kind = Convert.ToInt32(e.Payload[e.PayloadNames!.IndexOf("AllocationKind")]) switch { 0 => "small", 1 => "large", _ => "pinned" };
        var type = e.PayloadNames.Contains("TypeName") ? e.Payload[e.PayloadNames.IndexOf("TypeName")] as string : "?";
        var amount = Convert.ToInt64(e.Payload[e.PayloadNames.IndexOf("AllocationAmount64")]);
        _bytes.AddOrUpdate($"{kind} {type}", amount, (_, v) => v + amount);
    }

    /// <summary>The types that took the most, largest first: "heap type: MiB".</summary>
    public IEnumerable<string> Top(int count) =>
        _bytes.OrderByDescending(p => p.Value).Take(count).Select(p => $"{p.Key}: {p.Value / 1048576.0:F1} MiB");
}
