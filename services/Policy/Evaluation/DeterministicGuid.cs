using System.Security.Cryptography;
using System.Text;

namespace Treecast.Policy.Evaluation;

/// <summary>
/// Ids derived from a name (RFC 9562 version 8, SHA-256 based): the same event redelivered yields the same
/// operation or watch id, so the saga sees one operation, not two.
/// </summary>
public static class DeterministicGuid
{
    public static Guid Create(string name)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes("treecast/" + name), hash);
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>The operation a broadcast action starts for one event.</summary>
    public static Guid ForBroadcast(string policyName, string eventId, int actionIndex) =>
        Create($"broadcast/{policyName}/{actionIndex}/{eventId}");

    /// <summary>The deadline watch a policy keeps on one workload.</summary>
    public static Guid ForDeadlineWatch(string policyName, string workloadId, int actionIndex) =>
        Create($"deadline-watch/{policyName}/{actionIndex}/{workloadId}");
}
