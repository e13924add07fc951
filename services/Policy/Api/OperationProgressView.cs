namespace Treecast.Policy.Api;

/// <summary>
/// How far an operation got: how many VMMs of the tree hold verified copies (the root counts once its VMs are paused),
/// of how many; the bytes its receivers hold of the bytes they are to hold, from their progress reports; and when the
/// last report arrived (null before the first).
/// </summary>
public sealed record OperationProgressView(int VerifiedVmms, int TotalVmms, long BytesReceived, long TotalBytes, DateTimeOffset? LastProgressAt);
