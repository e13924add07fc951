using MongoDB.Bson.Serialization.Attributes;
using Treecast.Contracts;

namespace Treecast.Topology.Registry;

/// <summary>One VMM of the registry as a document of the <c>vmms</c> collection, keyed by VMM id.</summary>
public sealed class StoredVmm
{
    [BsonId]
    public string VmmId { get; set; } = string.Empty;

    public string GrpcEndpoint { get; set; } = string.Empty;

    public string Location { get; set; } = string.Empty;

    public List<string> VmIds { get; set; } = [];

    /// <summary>The VMs as the latest heartbeat described them; absent in documents written before heartbeats carried them.</summary>
    public List<VmSummary>? Vms { get; set; }

    /// <summary>Readable (a UTC date at <c>LastSeenAt.DateTime</c>) and exact.</summary>
    public DateTimeOffset LastSeenAt { get; set; }

    /// <summary>
    /// <see cref="LastSeenAt"/> as UTC ticks, the compare-and-set key of <see cref="IVmmRegistry.MarkLostAsync"/>:
    /// instants compare equal whatever their offset, as they do in memory.
    /// </summary>
    public long LastSeenUtcTicks { get; set; }

    public TimeSpan Interval { get; set; }

    public bool IsLost { get; set; }

    public static StoredVmm From(RegisteredVmm vmm)
    {
        ArgumentNullException.ThrowIfNull(vmm);
        return new StoredVmm
        {
            VmmId = vmm.VmmId,
            GrpcEndpoint = vmm.GrpcEndpoint,
            Location = vmm.Location,
            VmIds = [.. vmm.VmIds],
            LastSeenAt = vmm.LastSeenAt,
            LastSeenUtcTicks = vmm.LastSeenAt.UtcTicks,
            Interval = vmm.Interval,
            IsLost = vmm.IsLost,
            Vms = vmm.Vms is null ? null : [.. vmm.Vms],
        };
    }

    public RegisteredVmm ToRegisteredVmm() =>
        new(VmmId, GrpcEndpoint, Location, [.. VmIds], LastSeenAt, Interval, IsLost, Vms is null ? null : [.. Vms]);
}
