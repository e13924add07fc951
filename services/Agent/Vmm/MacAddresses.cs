using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Treecast.Agent.Vmm;

/// <summary>The MAC addresses every VMM driver gives its VMs: a stable one per VM id, and a fresh one per copy.</summary>
public static class MacAddresses
{
    /// <summary>QEMU's 52:54:00 prefix with the rest from the VM id, so a VM keeps its MAC across processes and hosts.</summary>
    public static string Original(string vmId)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(vmId));
        return Format([0x52, 0x54, 0x00, hash[0], hash[1], hash[2]]);
    }

    /// <summary>
    /// A random MAC for a copy, never one of <paramref name="avoid"/>. 02 in the first octet: locally
    /// administered (bit 1 set) and unicast (bit 0 clear), so it can never collide with a vendor-assigned one.
    /// </summary>
    public static string NewForCopy(params string[] avoid)
    {
        Span<byte> octets = stackalloc byte[6];
        while (true)
        {
            RandomNumberGenerator.Fill(octets);
            octets[0] = 0x02;
            var mac = Format(octets);
            if (!avoid.Contains(mac, StringComparer.Ordinal))
            {
                return mac;
            }
        }
    }

    private static string Format(ReadOnlySpan<byte> octets) =>
        string.Join(':', octets.ToArray().Select(o => o.ToString("x2", CultureInfo.InvariantCulture)));
}
