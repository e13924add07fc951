namespace Treecast.Bench.Broadcast;

/// <summary>One run of the raw chain: its time, its ratio to S/B, and what each host sent on its link (host 0 first).</summary>
public sealed record RawChainRun(double Seconds, long[] BytesSent)
{
    public double RatioToBound { get; init; }
}

/// <summary>One agent's part in one operation: what it sent on its link, its CPU time during the operation, its peak memory.</summary>
public sealed record AgentUsage(string VmmId, string? ParentVmmId, long BytesSent, double CpuSeconds, double PeakResidentMiB);

/// <summary>
/// One broadcast operation with one strategy: the operation's own time (requested → finished) and transfer time
/// (transfer started → finished), T/(S/B), whether every receiver verified its copies, and each agent's usage.
/// </summary>
public sealed record StrategyRun(
    string Strategy,
    int? FanOut,
    int? Stripes,
    Guid OperationId,
    string State,
    bool AllVerified,
    long ImageBytes,
    double OperationSeconds,
    double? TransferSeconds,
    double RatioToBound,
    int Depth,
    string? FailureReason,
    AgentUsage[] Agents);

/// <summary>Everything measured at one link rate and one number of receivers.</summary>
public sealed record ShapedConfiguration(int Mbit, int Receivers, double BoundSeconds, RawChainRun RawChain, List<StrategyRun> Strategies, List<string> Failures);
