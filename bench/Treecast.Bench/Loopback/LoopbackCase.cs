namespace Treecast.Bench.Loopback;

/// <summary>One relay measured: seconds until the relay and the leaf held the whole image, and what that cost.</summary>
/// <param name="MiBPerSecond">Image size over the time until the leaf held it (end to end through the relay).</param>
/// <param name="CpuSecondsPerGiB">Process CPU time (every hop is in this process) per GiB of image.</param>
/// <param name="PeakResidentMiB">The whole process's peak resident memory during the transfer (root, relay and leaves together).</param>
public sealed record LoopbackCase(
    string Relay,
    double RelaySeconds,
    double LeafSeconds,
    double MiBPerSecond,
    double CpuSecondsPerGiB,
    double ThroughputRatioToRaw,
    double CpuRatioToRaw,
    double? PeakResidentMiB);
