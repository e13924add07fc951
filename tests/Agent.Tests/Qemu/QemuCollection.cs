namespace Treecast.Agent.Tests.Qemu;

/// <summary>The QEMU specs share one built guest and run one at a time: software emulation is CPU-bound.</summary>
[CollectionDefinition(Name)]
public sealed class QemuCollection : ICollectionFixture<QemuFixture>
{
    public const string Name = "qemu";
}
