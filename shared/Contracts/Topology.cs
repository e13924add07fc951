namespace Treecast.Contracts;

/// <summary>Sent by every agent at a fixed interval; the topology service's registry is built from these.</summary>
/// <param name="Location">Network location as a path, most general first: <c>site/pod/rack</c>.</param>
public sealed record VmmHeartbeat(
    string VmmId,
    string GrpcEndpoint,
    string Location,
    IReadOnlyList<string> VmIds,
    DateTimeOffset SentAt,
    TimeSpan Interval);

/// <summary>A VMM missed its heartbeats and is no longer placed in trees.</summary>
public sealed record VmmLost(string VmmId, DateTimeOffset LastSeenAt, DateTimeOffset DetectedAt);

/// <summary>A VMM (re)joined the registry.</summary>
public sealed record VmmRegistered(string VmmId, string Location, string GrpcEndpoint);

/// <summary>Ask the topology service for a tree over the live VMMs, rooted at <see cref="RootVmmId"/>.</summary>
public sealed record ResolveTree(Guid OperationId, string RootVmmId, int FanOut);

public sealed record TreeResolved(Guid OperationId, VmmTree Tree);

public sealed record TreeResolutionFailed(Guid OperationId, string RootVmmId, string Reason);
