namespace Treecast.Policy.Api;

/// <summary>How many VMMs of the tree hold verified copies (the root counts once its VMs are paused), of how many.</summary>
public sealed record OperationProgressView(int VerifiedVmms, int TotalVmms);
