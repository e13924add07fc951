using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Treecast.Hosting.Telemetry;

/// <summary>
/// The <c>Treecast</c> meter and activity source: what the services count about their own work, beside what ASP.NET Core,
/// gRPC, HttpClient and MassTransit report. Static, like the runtime's own meters: one per process, whatever hosts it
/// (the embedded run puts every service and 15 agents in one process, told apart by the <c>vmm</c> tag).
/// Prometheus names: dots become underscores and counters end in <c>_total</c> (<c>treecast_transfer_received_bytes_total</c>).
/// </summary>
public static class TreecastMetrics
{
    public const string Name = "Treecast";

    public static readonly ActivitySource Activities = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary>Bytes a VMM stored of an operation's images, as they arrive (tag <c>vmm</c>).</summary>
    public static readonly Counter<long> BytesReceived = Meter.CreateCounter<long>(
        "treecast.transfer.received.bytes", "By", "Bytes of VM images a VMM received from its parent");

    /// <summary>Bytes a VMM pushed to its children (tags <c>vmm</c>, <c>child</c>).</summary>
    public static readonly Counter<long> BytesRelayed = Meter.CreateCounter<long>(
        "treecast.transfer.relayed.bytes", "By", "Bytes of VM images a VMM sent to its children");

    /// <summary>Chunks refused on arrival (tags <c>vmm</c>, <c>reason</c>: checksum, sender, order).</summary>
    public static readonly Counter<long> ChunkFailures = Meter.CreateCounter<long>(
        "treecast.transfer.chunk.failures", "{chunk}", "Chunks a VMM refused: a checksum that did not match, a wrong sender, a gap");

    /// <summary>Whole images whose SHA-256 did not match the root's (tag <c>vmm</c>).</summary>
    public static readonly Counter<long> VerificationFailures = Meter.CreateCounter<long>(
        "treecast.transfer.verification.failures", "{image}", "Images whose SHA-256 did not match the root's");

    /// <summary>Operations that reached a final state (tags <c>state</c>, <c>mode</c>).</summary>
    public static readonly Counter<long> OperationsFinished = Meter.CreateCounter<long>(
        "treecast.operations.finished", "{operation}", "Broadcast operations by the final state they reached");

    /// <summary>How long each step of an operation took (tag <c>step</c>: pause, tree, announce, transfer, resume).</summary>
    public static readonly Histogram<double> StepDuration = Meter.CreateHistogram<double>(
        "treecast.operation.step.duration", "s", "How long each step of a broadcast operation took");

    /// <summary>External events the policy service took in (tag <c>type</c>).</summary>
    public static readonly Counter<long> EventsReceived = Meter.CreateCounter<long>(
        "treecast.events.received", "{event}", "External events the policy service received");

    /// <summary>Events that matched at least one policy (tag <c>type</c>).</summary>
    public static readonly Counter<long> EventsMatched = Meter.CreateCounter<long>(
        "treecast.events.matched", "{event}", "Events that matched at least one execution policy");

    /// <summary>Events refused as malformed (tag <c>field</c>: the field at fault).</summary>
    public static readonly Counter<long> EventsRejected = Meter.CreateCounter<long>(
        "treecast.events.rejected", "{event}", "External events refused as malformed");
}
