using Treecast.Contracts;

namespace Treecast.Agent.Tests.Hosting;

/// <summary>
/// A finished operation asked for again (a saga restarted with its request redelivered): the agents answer with what
/// they hold instead of staying silent.
/// </summary>
public sealed class When_a_finished_operation_is_asked_for_again : IAsyncLifetime
{
    private static readonly string[] Receivers = ["vmm-b", "vmm-c", "vmm-d"];
    private readonly Guid _operationId = Guid.NewGuid();
    private AgentCluster _cluster = null!;
    private AnnouncePendingTransfer _announce = null!;

    public async Task InitializeAsync()
    {
        _cluster = await AgentCluster.StartAsync("vmm-a", "vmm-b", "vmm-c", "vmm-d");
        var paused = await _cluster.BroadcastAsync(_operationId, ("vmm-b", "vmm-a"), ("vmm-c", "vmm-a"), ("vmm-d", "vmm-b"));
        _announce = _cluster.Agents["vmm-a"].Node.Transfers.TryGetAnnounced(_operationId, out var announced)
            ? new AnnouncePendingTransfer(_operationId, "vmm-a", announced.Tree, paused.Vms, announced.ChunkSizeBytes, BroadcastMode.Broadcast)
            : throw new InvalidOperationException("no announcement");
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Should_answer_a_repeated_announcement_with_ready_and_the_copies_held()
    {
        await _cluster.SendAsync("vmm-a", _announce);

        await WaitForEveryReceiverAsync<ReadyToReceive>(times: 2);
        var again = await WaitForEveryReceiverAsync<VmsReceived>(times: 2);

        var announced = _cluster.Events.All<PendingTransferAnnounced>().Where(a => a.OperationId == _operationId).ToList();
        Assert.Equal(2 * Receivers.Length, announced.Count);
        Assert.All(Receivers, vmmId => Assert.Equal(2, announced.Count(a => a.Tree.Nodes[0].VmmId == vmmId)));
        Assert.Single(announced.Select(a => a.Token).Distinct());
        Assert.All(again, received => Assert.Equal(
            _announce.Vms.Select(v => (v.VmId, v.Sha256)).Order(),
            received.Vms.Select(v => (v.VmId, v.Sha256)).Order()));
        Assert.Empty(_cluster.Events.All<OperationStepFailed>());
    }

    [Fact]
    public async Task Should_start_a_finished_transfer_again_and_have_every_receiver_verify_again()
    {
        await _cluster.SendAsync("vmm-a", new StartTransfer(_operationId, "vmm-a"));

        var again = await WaitForEveryReceiverAsync<VmsReceived>(times: 2);

        Assert.All(again, received => Assert.Equal(
            _announce.Vms.Select(v => (v.VmId, v.Sha256)).Order(),
            received.Vms.Select(v => (v.VmId, v.Sha256)).Order()));
        Assert.All(Receivers, vmmId => Assert.Equal(2, _cluster.Agents[vmmId].Vmm.Vms.Count(v => v.VmId.StartsWith("vmm-a-", StringComparison.Ordinal))));
        Assert.Empty(_cluster.Events.All<OperationStepFailed>());
    }

    /// <summary>Waits until every receiver published <typeparamref name="T"/> for the operation that many times; returns the last of each.</summary>
    private async Task<IReadOnlyList<T>> WaitForEveryReceiverAsync<T>(int times)
        where T : class
    {
        var last = new List<T>();
        foreach (var vmmId in Receivers)
        {
            await _cluster.Events.WaitForAsync<T>(
                _ => _cluster.Events.All<T>().Count(m => Is(m, vmmId)) >= times,
                TimeSpan.FromMinutes(2));
            last.Add(_cluster.Events.All<T>().Last(m => Is(m, vmmId)));
        }

        return last;
    }

    private bool Is<T>(T message, string vmmId) => message switch
    {
        ReadyToReceive r => r.OperationId == _operationId && r.VmmId == vmmId,
        VmsReceived r => r.OperationId == _operationId && r.VmmId == vmmId,
        _ => false,
    };
}
