namespace Treecast.Contracts;

/// <summary>
/// The transfer chunk size every service assumes when an operation names none: the policy's <c>chunkSizeKiB</c>
/// default, the agents' when an announcement carries 0, and what topology weighs for the default fan-out.
/// </summary>
/// <remarks>
/// 128 KiB, not the 1 MiB it was: a relay forwards a chunk only once the whole of it arrived, so a larger chunk costs
/// every hop its time on the link and leaves the relay's uplink in bursts that delay its parent's acknowledgements;
/// and a 1 MiB chunk passes through more buffers than a core's cache holds on its way from socket to spool. Measured
/// with bench/README.md's commands, 1 MiB against 128 KiB: a chain of 7 at 50 Mbit/s 1.21 against 1.17 × S/B, of 15
/// 1.34-1.36 against 1.31-1.34; one relay hop on loopback fewer CPU-seconds per GiB, a relay's peak memory lower.
/// Smaller still (64 KiB) gained nothing more on the links and costs a gRPC message per 64 KiB.
/// </remarks>
public static class ChunkSizes
{
    public const int DefaultBytes = 128 * 1024;
}
