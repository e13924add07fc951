namespace Treecast.Contracts;

/// <summary>Sent by every agent at a fixed interval; the topology service's registry is built from these.</summary>
/// <param name="Location">Network location as a path, most general first: <c>site/pod/rack</c>.</param>
/// <param name="Vms">What each VM is now (state, size, digest, MAC), for operators (<c>GET /vmms</c>); null from agents that predate it.</param>
public sealed record VmmHeartbeat(
    string VmmId,
    string GrpcEndpoint,
    string Location,
    IReadOnlyList<string> VmIds,
    DateTimeOffset SentAt,
    TimeSpan Interval,
    IReadOnlyList<VmSummary>? Vms = null);

/// <summary>One VM of a VMM as its heartbeat reports it; <see cref="Sha256"/> is known for a saved or received image.</summary>
public sealed record VmSummary(string VmId, VmState State, long Bytes, string? Sha256, string? MacAddress);

/// <summary>A VMM missed its heartbeats and is no longer placed in trees.</summary>
public sealed record VmmLost(string VmmId, DateTimeOffset LastSeenAt, DateTimeOffset DetectedAt);

/// <summary>A VMM (re)joined the registry.</summary>
public sealed record VmmRegistered(string VmmId, string Location, string GrpcEndpoint);

/// <summary>Ask the topology service for a tree over the live VMMs, rooted at <see cref="RootVmmId"/>.</summary>
/// <param name="FanOut">Children per VMM at most; 0 for topology's default (by default, the fan-out that suits the root's image size).</param>
/// <param name="Stripes">Stripe trees to build over the same VMMs (see <see cref="VmmTree"/>); 0 for topology's default.</param>
/// <param name="ChunkSizeBytes">The operation's chunk size, which the default fan-out weighs; 0 for the agents' default.</param>
public sealed record ResolveTree(Guid OperationId, string RootVmmId, int FanOut, int Stripes = 0, int ChunkSizeBytes = 0);

public sealed record TreeResolved(Guid OperationId, VmmTree Tree);

public sealed record TreeResolutionFailed(Guid OperationId, string RootVmmId, string Reason);

/// <summary>
/// Ask for a repaired tree of a running operation over <see cref="Members"/> (the root among them), after a VMM was
/// lost or came back: a new version, built like any tree, over the members the registry holds live.
/// </summary>
public sealed record RepairTree(Guid OperationId, string RootVmmId, int FanOut, IReadOnlyList<string> Members, long PreviousVersion, int Stripes = 0);

/// <summary>The repaired tree; <see cref="Left"/> are the members it could not place (unknown or lost in the registry).</summary>
public sealed record TreeRepaired(Guid OperationId, VmmTree Tree, IReadOnlyList<string> Left);
