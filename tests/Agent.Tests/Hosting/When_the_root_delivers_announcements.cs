using System.Collections.Concurrent;
using System.Diagnostics;
using MassTransit;
using Treecast.Agent.Consumers;
using Treecast.Contracts;
using Treecast.TestSupport;
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
        var bus = Bus.Factory.CreateUsingInMemory(_ => { });
        await bus.StartAsync();
        try
        {
            Assert.Equal(99_999, await MeasureAsync(bus, 100_000, "in-memory bus"));
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    /// <summary>
    /// The same over RabbitMQ, in a virtual host of its own (deleted after), to exchanges declared first as the agents'
    /// are: opt-in, since it declares an exchange per VMM. <c>TREECAST_BENCH=1 RABBITMQ_URI=amqp://guest:guest@localhost:5672/ dotnet test tests/Agent.Tests
    /// --filter delivers_announcements</c>; the number of VMMs with TREECAST_BENCH_VMMS (default 10,000).
    /// </summary>
    [SkippableFact]
    public async Task Should_send_an_announcement_to_every_vmm_over_rabbitmq()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("TREECAST_BENCH") == "1", "set TREECAST_BENCH=1 to measure announcement sends over RabbitMQ");
        var vmms = int.TryParse(Environment.GetEnvironmentVariable("TREECAST_BENCH_VMMS"), out var n) ? n : 10_000;
        var broker = new RabbitMqBroker();
        await broker.InitializeAsync();
        try
        {
            var uri = broker.Require();
            await DeclareAgentExchangesAsync(uri, vmms);
            var bus = Bus.Factory.CreateUsingRabbitMq(cfg => cfg.Host(uri));
            await bus.StartAsync();
            try
            {
                Assert.Equal(vmms - 1, await MeasureAsync(bus, vmms, "RabbitMQ"));
            }
            finally
            {
                await bus.StopAsync();
            }
        }
        finally
        {
            await broker.DisposeAsync();
        }
    }

    /// <summary>
    /// Every agent declares its exchange when it starts: a root's send then finds it there (declaring a durable exchange
    /// that does not exist costs the broker a write of its own, about as much as the send).
    /// </summary>
    private static async Task DeclareAgentExchangesAsync(Uri broker, int vmms)
    {
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = broker };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        for (var i = 0; i < vmms; i++)
        {
            await channel.ExchangeDeclareAsync(Addresses.AgentQueue($"vmm-{i:D6}"), RabbitMQ.Client.ExchangeType.Fanout, durable: true, autoDelete: false);
        }
    }

    /// <summary>
    /// Sends the announcements of a tree of <paramref name="vmms"/> and, as the baseline in the same run, as many sends
    /// with the same bounded concurrency to one exchange (one send endpoint, where each VMM's own exchange costs one
    /// send endpoint each); prints both, returns the number sent.
    /// </summary>
    private async Task<int> MeasureAsync(IBus bus, int vmms, string transport)
    {
        var edges = Enumerable.Range(1, vmms - 1).Select(i => ($"vmm-{i:D6}", $"vmm-{(i - 1) / 2:D6}")).ToArray();
        var announced = Tree(1, edges, root: "vmm-000000");
        var started = Stopwatch.GetTimestamp();
        var sent = await AnnouncementDelivery.SendAsync(bus, announced, null, CancellationToken.None);
        var elapsed = Stopwatch.GetElapsedTime(started);

        started = Stopwatch.GetTimestamp();
        var one = await bus.GetSendEndpoint(Addresses.Agent("vmm-000001"));
        var slice = announced with { Tree = announced.Tree.SliceFor("vmm-000001") };
        await Parallel.ForEachAsync(
            Enumerable.Range(0, sent),
            new ParallelOptions { MaxDegreeOfParallelism = AnnouncementDelivery.SendsAtOnce },
            async (_, cancelled) => await one.Send(slice, cancelled));
        var baseline = Stopwatch.GetElapsedTime(started);

        output.WriteLine(
            $"{transport}: {sent:N0} announcements sent in {elapsed.TotalMilliseconds:F0} ms ({sent / elapsed.TotalSeconds:F0} per second), "
            + $"{AnnouncementDelivery.SendsAtOnce} at once; as many to one exchange: {baseline.TotalMilliseconds:F0} ms");
        return sent;
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
