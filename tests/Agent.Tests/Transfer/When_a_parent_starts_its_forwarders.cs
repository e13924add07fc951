using Treecast.Agent.Transfer;
using Treecast.Contracts;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>
/// A parent's run to each child is in the sibling pace from the moment it starts until it ends: a child whose forwarder
/// got going first waits for a sibling still opening its sources, and a sibling whose run ended, however, holds nobody.
/// The runs here stand in for the agent's forwarders: they call the pace as a forwarder does before sending a chunk.
/// </summary>
public sealed class When_a_parent_starts_its_forwarders
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(1);

    // Sending from here puts a child one byte beyond the window of a sibling still at the image's beginning.
    private const long BeyondTheWindow = SiblingPace.DefaultWindowBytes + 1;

    [Fact]
    public async Task Should_hold_the_first_child_until_its_sibling_reports()
    {
        var siblingOpened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (forwarding, firstSent) = StartFirstAndSecond(async second =>
        {
            // Its sources are still opening: it has not reported where it stands.
            await siblingOpened.Task;
            second.Pace.Report(second, 1);
        });

        Assert.False(firstSent.IsCompleted, "the first child went beyond the window of a sibling that had not reported");
        siblingOpened.SetResult();
        await firstSent.WaitAsync(Patience);
        await forwarding.Completion.WaitAsync(Patience);
    }

    [Fact]
    public async Task Should_let_the_first_child_go_once_its_sibling_run_ended_before_reporting()
    {
        var siblingFailed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (forwarding, firstSent) = StartFirstAndSecond(async _ =>
        {
            // Its sources could not be opened: the run fails before any forwarder exists.
            await siblingFailed.Task;
            throw new ImageSourceException("the spool could not be opened");
        });

        Assert.False(firstSent.IsCompleted, "the first child went beyond the window of a sibling that had not reported");
        siblingFailed.SetResult();
        await firstSent.WaitAsync(Patience);
        await Assert.ThrowsAsync<ImageSourceException>(() => forwarding.Completion.WaitAsync(Patience));
    }

    /// <summary>
    /// Starts the runs to children "first" and "second" (in that order): the first asks to send beyond the window at
    /// once and completes the task returned when it may; the second runs <paramref name="second"/>.
    /// </summary>
    private static (Forwarding Forwarding, Task FirstSent) StartFirstAndSecond(Func<ChildFeed, Task> second)
    {
        var firstSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var forwarding = new Forwarding("root", 1, async (_, feed) =>
        {
            if (feed.Child.VmmId != "first")
            {
                await second(feed);
                return;
            }

            await feed.Pace.WaitAsync(feed, BeyondTheWindow, feed.Stopping);
            firstSent.TrySetResult();
        });

        forwarding.Follow(Announcement());
        return (forwarding, firstSent.Task);
    }

    private static PendingTransferAnnounced Announcement()
    {
        var tree = new VmmTree(1, "root", 2,
        [
            new TreeNode("root", null, "site-1/pod-1/rack-1", "https://10.0.0.1:5001"),
            new TreeNode("first", "root", "site-1/pod-1/rack-1", "https://10.0.0.2:5001"),
            new TreeNode("second", "root", "site-1/pod-1/rack-1", "https://10.0.0.3:5001"),
        ]);
        return new PendingTransferAnnounced(Guid.NewGuid(), "root", tree, [new VmImage("root-vm-0", 64L * 1024 * 1024, "sha", null)], "token", ChunkSizes.DefaultBytes, BroadcastMode.Broadcast);
    }
}
