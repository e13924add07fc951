namespace Treecast.Policy.Policies;

/// <summary>The event types policies can react to, and the fields each needs.</summary>
public static class EventTypes
{
    public const string HostDegraded = "host.degraded";
    public const string WorkloadStarted = "workload.started";
    public const string WorkloadCompleted = "workload.completed";

    /// <summary>A manual request for a broadcast; like every type, it acts only through a policy.</summary>
    public const string BroadcastRequested = "broadcast.requested";

    public static IReadOnlyList<string> Known { get; } = [HostDegraded, WorkloadStarted, WorkloadCompleted, BroadcastRequested];

    /// <summary>"host.degraded, workload.started, …" for error messages.</summary>
    public static string KnownList { get; } = string.Join(", ", Known);

    /// <summary>The canonical spelling of a known type, whatever its case; null for an unknown type.</summary>
    public static string? Canonical(string? type) =>
        Known.FirstOrDefault(k => string.Equals(k, type, StringComparison.OrdinalIgnoreCase));

    /// <summary>Every type names a VMM (the root of what it triggers); workload events also name the workload.</summary>
    public static bool RequiresWorkloadId(string type) =>
        string.Equals(type, WorkloadStarted, StringComparison.OrdinalIgnoreCase)
        || string.Equals(type, WorkloadCompleted, StringComparison.OrdinalIgnoreCase);
}
