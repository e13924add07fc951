using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Treecast.Agent.Tests.Support;
using Treecast.Agent.Transfer;
using Treecast.Agent.Transfer.Receiving;
using Treecast.Contracts;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>
/// A receiver waits for its lost parent's stream (the parent's grace period runs) when a repaired tree gives it another
/// parent: the new parent gets a grace period of its own. Seen in the fault suite: the lost relay's grace ran out just
/// after the repair, and the receiver reported its new parent unreachable, which the saga then failed.
/// </summary>
public sealed class When_a_newer_tree_gives_a_waiting_receiver_another_parent : IDisposable
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);
    private readonly string _directory = Directory.CreateTempSubdirectory("treecast-grace-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 20, 0, 0, TimeSpan.Zero));
    private readonly RecordingEventSink _events = new();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Should_report_the_new_parent_only_after_a_whole_grace_period_of_its_own(int stripes)
    {
        var operationId = Guid.NewGuid();
        var announcement = Announcement(operationId, version: 1, parent: "lost", stripes);
        await using var receiver = new Receiver(
            "child", announcement, Path.Combine(_directory, "receive"), new FileVmm("child", Path.Combine(_directory, "vmm")), _events,
            new TransferSettings { ParentGracePeriod = Grace }, _time, NullLogger.Instance);

        // The lost parent's stream is gone (as after a restart) and most of its grace period has run.
        receiver.AwaitParent();
        _time.Advance(Grace * 0.9);
        Assert.True(receiver.Follow(Announcement(operationId, version: 2, parent: "new", stripes)));
        var followedAt = _time.GetUtcNow();

        _time.Advance(Grace * 0.5);
        Assert.Empty(_events.All<ParentUnreachable>());

        _time.Advance(Grace * 0.6);
        var report = Assert.Single(_events.All<ParentUnreachable>());
        Assert.Equal("new", report.ParentVmmId);
        Assert.Contains($"since {followedAt:O}", report.Reason, StringComparison.Ordinal);
    }

    private static PendingTransferAnnounced Announcement(Guid operationId, long version, string parent, int stripes)
    {
        IReadOnlyList<string?>? stripeParents = stripes > 1 ? Enumerable.Repeat<string?>(parent, stripes).ToList() : null;
        var tree = new VmmTree(version, "root", 2,
        [
            new TreeNode("root", null, "site/pod/rack", "https://root:5100", stripes > 1 ? Enumerable.Repeat<string?>(null, stripes).ToList() : null),
            new TreeNode(parent, "root", "site/pod/rack", $"https://{parent}:5100", stripes > 1 ? Enumerable.Repeat<string?>("root", stripes).ToList() : null),
            new TreeNode("child", parent, "site/pod/rack", "https://child:5100", stripeParents),
        ], stripes);
        return new PendingTransferAnnounced(operationId, "root", tree, [new VmImage("vm-0", 4 * 65536, new string('a', 64))], "token", 65536, BroadcastMode.Broadcast);
    }
}
