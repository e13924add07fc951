using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

/// <summary>
/// A small tree the tests broadcast over: root <c>vmm-0</c> feeds <c>vmm-1</c> and <c>vmm-2</c>, and
/// <c>vmm-1</c> relays to <c>vmm-3</c>; the root holds two VMs.
/// </summary>
public static class TestTree
{
    public const string Root = "vmm-0";

    public static readonly string[] Receivers = ["vmm-1", "vmm-2", "vmm-3"];

    public static readonly IReadOnlyList<VmImage> Vms =
    [
        new("vm-a", 4096, "aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11"),
        new("vm-b", 8192, "bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22"),
    ];

    public static long TotalBytes => Vms.Sum(v => v.Bytes);

    public static VmmTree Build(long version = 3) =>
        new(version, Root, 2,
        [
            new TreeNode(Root, null, "site-a/pod-1/rack-1", "http://vmm-0:5100"),
            new TreeNode("vmm-1", Root, "site-a/pod-1/rack-1", "http://vmm-1:5100"),
            new TreeNode("vmm-2", Root, "site-a/pod-1/rack-2", "http://vmm-2:5100"),
            new TreeNode("vmm-3", "vmm-1", "site-a/pod-2/rack-1", "http://vmm-3:5100"),
        ]);

    /// <summary>
    /// <see cref="Build"/> in two stripes: stripe 0's tree is <see cref="Build"/>'s; in stripe 1, vmm-0 feeds vmm-2, which
    /// feeds vmm-1 and vmm-3.
    /// </summary>
    public static VmmTree Striped(long version = 3) =>
        Build(version) with
        {
            Stripes = 2,
            Nodes = Build(version).Nodes
                .Select(n => n with { StripeParents = [n.ParentVmmId, n.VmmId switch { Root => null, "vmm-2" => Root, _ => "vmm-2" }] })
                .ToArray(),
        };

    /// <summary>A repaired version of the tree: the root, and each (VMM, new parent) pair, located as in <see cref="Build"/>.</summary>
    public static VmmTree Repaired(long version, params (string Vmm, string Parent)[] nodes) =>
        new(version, Root, 2, nodes
            .Select(n => Build().Find(n.Vmm)! with { ParentVmmId = n.Parent })
            .Prepend(Build().Find(Root)!)
            .ToArray());

    public static VmmTree RootOnly() =>
        new(1, Root, 2, [new TreeNode(Root, null, "site-a/pod-1/rack-1", "http://vmm-0:5100")]);

    public static IReadOnlyList<VmCopy> Copies(VmState state) =>
        Vms.Select(v => new VmCopy(v.VmId, v.Sha256, state)).ToArray();

    public static IReadOnlyList<VmCopy> RunningCopiesOn(string vmmId) =>
        Vms.Select(v => new VmCopy($"{v.VmId}@{vmmId}", v.Sha256, VmState.Running, $"52:54:00:00:00:{vmmId[^1]}0")).ToArray();
}
