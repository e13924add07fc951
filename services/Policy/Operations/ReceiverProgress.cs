namespace Treecast.Policy.Operations;

/// <summary>How far one receiver of an operation got, as its progress reports said; the furthest offset wins.</summary>
/// <param name="LastProgressAt">When the last report arrived (the policy service's clock).</param>
public sealed record ReceiverProgress(Guid OperationId, string VmmId, long BytesReceived, long TotalBytes, DateTimeOffset LastProgressAt);
