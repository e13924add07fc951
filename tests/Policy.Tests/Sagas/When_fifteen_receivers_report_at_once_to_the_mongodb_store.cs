using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MongoDB.Driver;
using Treecast.Contracts;
using Treecast.Persistence;
using Treecast.Persistence.Sagas;
using Treecast.Policy.Operations;
using Treecast.Policy.Sagas;
using Treecast.TestSupport;
using Treecast.TestSupport.Harness;

namespace Treecast.Policy.Tests.Sagas;

/// <summary>
/// One operation over a root and 15 receivers, on the MongoDB saga repository (what docker compose deploys), the
/// receivers' ready, progress and received reports published all at once as a fleet does. Without the saga's
/// partitioner their writes to the one operation document conflict; here the bus has no retry at all, so a single
/// conflict would fault a message. Skipped, with the reason, where no MongoDB server is reachable.
/// </summary>
public sealed class When_fifteen_receivers_report_at_once_to_the_mongodb_store(MongoDbServer server)
    : IClassFixture<MongoDbServer>, IAsyncLifetime
{
    private const string Root = "vmm-00";
    private static readonly string[] Receivers = Enumerable.Range(1, 15).Select(i => $"vmm-{i:00}").ToArray();
    private static readonly IReadOnlyList<VmImage> Vms = TestTree.Vms;

    private ServiceProvider? _provider;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task Should_complete_with_every_receiver_verified_and_no_message_faulted()
    {
        var harness = await StartAsync();
        var id = NewId.NextGuid();

        await harness.Bus.Publish(new BroadcastRequested(id, Root, BroadcastMode.Broadcast, 3, 65536, "degraded-host", "host.degraded", DateTimeOffset.UtcNow));
        await StateAsync(id, "ResolvingTree");
        await harness.Bus.Publish(new TreeResolved(id, Tree()));
        await StateAsync(id, "Pausing");
        await harness.Bus.Publish(new VmsPaused(id, Root, Vms));
        await StateAsync(id, "Announcing");

        await Task.WhenAll(Receivers.Select(vmm => harness.Bus.Publish(new ReadyToReceive(id, vmm))));
        await StateAsync(id, "Transferring");

        var total = Vms.Sum(v => v.Bytes);
        await Task.WhenAll(Receivers.Select(async vmm =>
        {
            foreach (var fraction in new[] { 4, 2, 1 })
            {
                await harness.Bus.Publish(new TransferProgressed(id, vmm, total / fraction, total));
            }

            await harness.Bus.Publish(new VmsReceived(id, vmm, TestTree.Copies(VmState.Paused)));
        }));

        var operation = await StateAsync(id, "Completed");
        Assert.Equal(16, operation.Hosts.Count);
        Assert.All(operation.Hosts, h => Assert.True(h.Verified, $"{h.VmmId} is not verified"));
        Assert.Null(operation.FailureReason);

        // Progress goes its own way (not through the saga): wait until the last reports are in.
        var store = _provider!.GetRequiredService<IOperationProgressStore>();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyList<ReceiverProgress> progress;
        while ((progress = await store.ForOperationAsync(id, default)).Count(p => p.BytesReceived == total) < Receivers.Length)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromMinutes(2), $"progress never reached {total} bytes: {string.Join(", ", progress)}");
            await Task.Delay(50);
        }

        // Waits for the bus to go quiet: a fault published by then is one of this operation's messages.
        var faulted = await harness.Published.Any(IsFault);
        Assert.False(faulted, $"{Faults().Count} message(s) faulted: {string.Join("; ", Faults())}");
        // Published after the saga's document is saved (its outbox): "Completed" in MongoDB can come first.
        Assert.True(await harness.Published.ShowsAsync<BroadcastOperationFinished>(), "the operation's end was never published");
        Assert.Single(harness.Published.Now<BroadcastOperationFinished>());
    }

    private async Task<ITestHarness> StartAsync()
    {
        var database = server.Require();
        database.DropCollection(SagaRegistration.OperationsCollection);
        database.DropCollection(MongoOperationProgressStore.CollectionName);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Mongo:ConnectionString"] = server.ConnectionString,
                ["Mongo:Database"] = server.DatabaseName,
            })
            .Build();
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(configuration);
        Assert.True(services.AddTreecastMongo(configuration, PolicyServiceExtensions.DefaultDatabase));
        _provider = services
            .AddMassTransitTestHarness(x =>
            {
                x.SetTestTimeouts(testTimeout: TimeSpan.FromMinutes(2), testInactivityTimeout: TimeSpan.FromSeconds(2));
                x.SetKebabCaseEndpointNameFormatter();
                x.AddTreecastSagas(useMongo: true);
                x.AddConsumer<TransferProgressConsumer, TransferProgressConsumerDefinition>();
            })
            .BuildServiceProvider(true);
        var harness = _provider.GetRequiredService<ITestHarness>();
        await harness.Start();
        return harness;
    }

    /// <summary>Reads the operation's document until it is in <paramref name="state"/>.</summary>
    private async Task<BroadcastOperationState> StateAsync(Guid id, string state)
    {
        var sagas = await _provider!.GetRequiredService<MongoSagaCollection<BroadcastOperationState>>().ReadyAsync(default);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var operation = await sagas.Find(Builders<BroadcastOperationState>.Filter.Eq(o => o.CorrelationId, id)).FirstOrDefaultAsync();
            if (operation?.CurrentState == state)
            {
                return operation;
            }

            var faults = Faults();
            Assert.True(faults.Count == 0, $"operation {id} is {operation?.CurrentState ?? "unknown"}: {faults.Count} message(s) faulted: {string.Join("; ", faults)}");
            Assert.True(waited.Elapsed < TimeSpan.FromMinutes(2), $"operation {id} is {operation?.CurrentState ?? "unknown"}, never reached {state}");
            await Task.Delay(50);
        }
    }

    private static bool IsFault(IPublishedMessage message) =>
        message.MessageType.IsGenericType && message.MessageType.GetGenericTypeDefinition() == typeof(Fault<>);

    private List<string> Faults() =>
        _provider!.GetRequiredService<ITestHarness>().Published.Select(IsFault)
            .Select(f => f.MessageObject is Fault fault
                ? $"{fault.FaultMessageTypes.FirstOrDefault()}: {fault.Exceptions.FirstOrDefault()?.Message}"
                : f.MessageType.Name)
            .ToList();

    /// <summary>A root and 15 receivers, fan-out 3: five relays under the root, each feeding two leaves.</summary>
    private static VmmTree Tree()
    {
        var nodes = new List<TreeNode> { new(Root, null, "site-a/pod-1/rack-1", "http://vmm-00:5100") };
        for (var i = 0; i < Receivers.Length; i++)
        {
            var parent = i < 5 ? Root : Receivers[(i - 5) / 2];
            nodes.Add(new TreeNode(Receivers[i], parent, $"site-a/pod-1/rack-{(i % 3) + 1}", $"http://{Receivers[i]}:5100"));
        }

        return new VmmTree(7, Root, 3, nodes);
    }
}
