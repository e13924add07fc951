using System.Collections.Concurrent;
using System.Diagnostics;
using MassTransit;
using Treecast.Agent.Consumers;
using Treecast.Contracts;
using Xunit.Abstractions;

namespace Treecast.Agent.Tests.Hosting;

/// <summary>
/// The root's agent sends each VMM of the tree its own announcement, carrying its slice of the tree, to that VMM's
/// exchange; a VMM a newer tree leaves out gets an empty slice; the root gets none.
/// </summary>
public sealed class When_the_root_delivers_announcements(ITestOutputHelper output)
{
    [Fact]
    public async Task Should_send_each_member_its_slice_and_each_member_left_out_an_empty_one()
    {
        var before = Tree(1, ("b", "a"), ("c", "a"), ("d", "b"), ("e", "b"), ("f", "c"));
        var after = Tree(2, ("b", "a"), ("c", "a"), ("e", "b"), ("g", "c"));
        var heard = new ConcurrentDictionary<string, ConcurrentQueue<PendingTransferAnnounced>>();
        var bus = Bus.Factory.CreateUsingInMemory(cfg => cfg.ReceiveEndpoint("announcements-heard", e =>
        {
            foreach (var vmmId in new[] { "a", "b", "c", "d", "e", "f", "g" })
            {
                e.Bind(Addresses.AgentQueue(vmmId));
            }

            e.Handler<PendingTransferAnnounced>(c =>
            {
                var to = c.DestinationAddress!.AbsolutePath.Split('/').Last()["agent-".Length..];
                heard.GetOrAdd(to, _ => new()).Enqueue(c.Message);
                return Task.CompletedTask;
            });
        }));
        await bus.StartAsync();
        try
        {
            var sent = await AnnouncementDelivery.SendAsync(bus, after, before.Tree, CancellationToken.None);

            Assert.Equal(6, sent);
            await WaitAsync(() => heard.Values.Sum(q => q.Count) == 6);
            Assert.Equal(["b", "c", "d", "e", "f", "g"], heard.Keys.Order());
            foreach (var vmmId in new[] { "b", "c", "e", "g" })
            {
                var slice = Assert.Single(heard[vmmId]).Tree;
                Assert.Equal(after.Tree.SliceFor(vmmId).Nodes, slice.Nodes);
                Assert.Equal(2, slice.Version);
            }

            Assert.All(new[] { "d", "f" }, vmmId => Assert.Empty(Assert.Single(heard[vmmId]).Tree.Nodes));
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    /// <summary>
    /// How long the root takes to send 100,000 announcements on the in-memory bus (what it costs the root's agent, with
    /// no broker round trips); printed, not asserted.
    /// </summary>
    [Fact]
    public async Task Should_send_an_announcement_to_every_one_of_100000_vmms()
    {
        var edges = Enumerable.Range(1, 99_999).Select(i => ($"vmm-{i:D6}", $"vmm-{(i - 1) / 2:D6}")).ToArray();
        var announced = Tree(1, edges, root: "vmm-000000");
        var bus = Bus.Factory.CreateUsingInMemory(_ => { });
        await bus.StartAsync();
        try
        {
            var started = Stopwatch.GetTimestamp();
            var sent = await AnnouncementDelivery.SendAsync(bus, announced, null, CancellationToken.None);
            var elapsed = Stopwatch.GetElapsedTime(started);

            // The baseline in the same run: as many sends, the same bounded concurrency, all to one exchange (one send
            // endpoint, where each VMM's own exchange costs one send endpoint each).
            started = Stopwatch.GetTimestamp();
            var one = await bus.GetSendEndpoint(Addresses.Agent("vmm-000001"));
            var slice = announced with { Tree = announced.Tree.SliceFor("vmm-000001") };
            await Parallel.ForEachAsync(
                Enumerable.Range(0, sent),
                new ParallelOptions { MaxDegreeOfParallelism = AnnouncementDelivery.SendsAtOnce },
                async (_, cancelled) => await one.Send(slice, cancelled));
            var baseline = Stopwatch.GetElapsedTime(started);

            output.WriteLine(
                $"{sent:N0} announcements sent in {elapsed.TotalMilliseconds:F0} ms ({sent / elapsed.TotalSeconds:F0} per second), "
                + $"{AnnouncementDelivery.SendsAtOnce} at once; as many to one exchange: {baseline.TotalMilliseconds:F0} ms");
            Assert.Equal(99_999, sent);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    private static PendingTransferAnnounced Tree(long version, params (string VmmId, string ParentVmmId)[] edges) =>
        Tree(version, edges, root: "a");

    private static PendingTransferAnnounced Tree(long version, (string VmmId, string ParentVmmId)[] edges, string root) =>
        Announced(new VmmTree(version, root, 2, [
            new TreeNode(root, null, "site-1/pod-1/rack-1", $"https://{root}:5001"),
            .. edges.Select(e => new TreeNode(e.VmmId, e.ParentVmmId, "site-1/pod-1/rack-1", $"https://{e.VmmId}:5001")),
        ]));

    private static PendingTransferAnnounced Announced(VmmTree tree) =>
        new(Guid.NewGuid(), tree.RootVmmId, tree, [new VmImage("vm-0", 1024, new string('0', 64))], "token", 1024 * 1024, BroadcastMode.Broadcast);

    private static async Task WaitAsync(Func<bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, "the announcements did not all arrive within a minute");
            await Task.Delay(20);
        }
    }
}
