using Treecast.Contracts;

namespace Treecast.Persistence.Tests.Bson;

public sealed class HostProgress
{
    public string VmmId { get; set; } = string.Empty;

    public long BytesReceived { get; set; }

    public bool Verified { get; set; }

    public List<VmCopy> Copies { get; set; } = [];
}
