namespace Treecast.Contracts;

/// <summary>
/// The transfer chunk size every service assumes when an operation names none: the policy's <c>chunkSizeKiB</c>
/// default, the agents' when an announcement carries 0, and what topology weighs for the default fan-out.
/// </summary>
public static class ChunkSizes
{
    public const int DefaultBytes = 1024 * 1024;
}
