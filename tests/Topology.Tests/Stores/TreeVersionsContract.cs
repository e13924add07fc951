using Treecast.Contracts;
using Treecast.Topology.Trees;

namespace Treecast.Topology.Tests.Stores;

/// <summary>What every tree version store must do, asserted the same way against each. A subclass names the store.</summary>
public abstract class TreeVersionsContract
{
    /// <summary>An empty store; skips the test, with the reason, when the store is not reachable here.</summary>
    protected abstract ITreeVersions CreateVersions();

    [SkippableFact]
    public async Task Versions_rise()
    {
        var versions = CreateVersions();

        var handedOut = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            handedOut.Add(await versions.NextVersionAsync(CancellationToken.None));
        }

        Assert.Equal(handedOut.Order(), handedOut);
        Assert.Equal(handedOut.Count, handedOut.Distinct().Count());
        Assert.True(handedOut[0] >= 1);
    }

    [SkippableFact]
    public async Task Concurrent_requests_never_share_a_version()
    {
        var versions = CreateVersions();

        var handedOut = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => versions.NextVersionAsync(CancellationToken.None)));

        Assert.Equal(handedOut.Length, handedOut.Distinct().Count());
    }

    [SkippableFact]
    public async Task A_version_asked_above_a_floor_is_above_it_and_above_every_earlier_one()
    {
        var versions = CreateVersions();

        var aboveFloor = await versions.NextVersionAboveAsync(100, CancellationToken.None);
        var next = await versions.NextVersionAsync(CancellationToken.None);
        var aboveLowFloor = await versions.NextVersionAboveAsync(1, CancellationToken.None);

        Assert.True(aboveFloor > 100, $"{aboveFloor} should be above the floor 100");
        Assert.True(next > aboveFloor, $"{next} should be above {aboveFloor}");
        Assert.True(aboveLowFloor > next, $"{aboveLowFloor} should be above {next}: a low floor lowers nothing");
    }

    [SkippableFact]
    public async Task Concurrent_requests_above_floors_never_share_a_version()
    {
        var versions = CreateVersions();

        var handedOut = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => i % 2 == 0
            ? versions.NextVersionAboveAsync(i, CancellationToken.None)
            : versions.NextVersionAsync(CancellationToken.None)));

        Assert.Equal(handedOut.Length, handedOut.Distinct().Count());
    }

    [SkippableFact]
    public async Task There_is_no_latest_tree_before_the_first()
    {
        Assert.Null(await CreateVersions().LatestAsync(CancellationToken.None));
    }

    [SkippableFact]
    public async Task The_latest_tree_is_the_highest_version_whatever_the_order_recorded()
    {
        var versions = CreateVersions();

        await versions.RecordAsync(Tree(2), CancellationToken.None);
        await versions.RecordAsync(Tree(3), CancellationToken.None);
        await versions.RecordAsync(Tree(1), CancellationToken.None);

        var latest = await versions.LatestAsync(CancellationToken.None);
        Assert.NotNull(latest);
        Assert.Equal(3, latest.Version);
        Assert.Equal("vmm-0", latest.RootVmmId);
        Assert.Equal(2, latest.FanOut);
        Assert.Equal(Tree(3).Nodes, latest.Nodes);
    }

    protected static VmmTree Tree(long version) =>
        new(version, "vmm-0", 2,
        [
            new TreeNode("vmm-0", null, "site-1/pod-1/rack-1", "http://vmm-0:5100"),
            new TreeNode("vmm-1", "vmm-0", "site-1/pod-1/rack-1", "http://vmm-1:5100"),
            new TreeNode("vmm-2", "vmm-0", "site-1/pod-1/rack-2", "http://vmm-2:5100"),
        ]);
}
