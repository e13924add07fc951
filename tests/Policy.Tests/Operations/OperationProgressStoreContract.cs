using Treecast.Contracts;
using Treecast.Policy.Operations;

namespace Treecast.Policy.Tests.Operations;

/// <summary>What every operation progress store does; a subclass names the store.</summary>
public abstract class OperationProgressStoreContract
{
    private static readonly DateTimeOffset At = new(2026, 11, 25, 9, 0, 0, TimeSpan.FromHours(1));

    /// <summary>A new, empty store; skips the test, with the reason, when it cannot be had here.</summary>
    protected abstract IOperationProgressStore CreateStore();

    [SkippableFact]
    public async Task Should_keep_the_furthest_bytes_and_the_latest_time()
    {
        var store = CreateStore();
        var id = Guid.NewGuid();

        await store.RecordAsync(new TransferProgressed(id, "vmm-2", 8192, 12288), At, default);
        await store.RecordAsync(new TransferProgressed(id, "vmm-2", 4096, 12288), At.AddSeconds(2), default);

        var vmm2 = Assert.Single(await store.ForOperationAsync(id, default));
        Assert.Equal(new ReceiverProgress(id, "vmm-2", 8192, 12288, At.AddSeconds(2)), vmm2);
    }

    [SkippableFact]
    public async Task Should_compare_bytes_as_numbers_across_digit_counts()
    {
        var store = CreateStore();
        var id = Guid.NewGuid();

        foreach (var bytes in new[] { 6144L, 12288L, 9000L, 5_000_000_000L, 700_000_000L })
        {
            await store.RecordAsync(new TransferProgressed(id, "vmm-1", bytes, 5_000_000_000L), At, default);
        }

        Assert.Equal(5_000_000_000L, Assert.Single(await store.ForOperationAsync(id, default)).BytesReceived);
    }

    [SkippableFact]
    public async Task Should_keep_each_receiver_and_operation_apart()
    {
        var store = CreateStore();
        var first = Guid.NewGuid();
        var second = Guid.NewGuid();
        var other = Guid.NewGuid();

        await store.RecordAsync(new TransferProgressed(first, "vmm-3", 10, 100), At, default);
        await store.RecordAsync(new TransferProgressed(first, "vmm-1", 20, 100), At, default);
        await store.RecordAsync(new TransferProgressed(second, "vmm-1", 30, 100), At, default);
        await store.RecordAsync(new TransferProgressed(other, "vmm-1", 40, 100), At, default);

        Assert.Equal(["vmm-1", "vmm-3"], (await store.ForOperationAsync(first, default)).Select(p => p.VmmId));
        var both = await store.ForOperationsAsync([first, second], default);
        Assert.Equal(2, both[first].Count());
        Assert.Equal(30, Assert.Single(both[second]).BytesReceived);
        Assert.Empty(both[other]);
        Assert.Empty(await store.ForOperationAsync(Guid.NewGuid(), default));
        Assert.Empty((await store.ForOperationsAsync([], default))[first]);
    }

    [SkippableFact]
    public async Task Should_lose_no_report_written_concurrently()
    {
        var store = CreateStore();
        var id = Guid.NewGuid();

        await Task.WhenAll(Enumerable.Range(1, 15).SelectMany(vmm => Enumerable.Range(1, 8).Select(step =>
            store.RecordAsync(new TransferProgressed(id, $"vmm-{vmm}", step * 1000L, 8000), At.AddSeconds(step), default))));

        var reports = await store.ForOperationAsync(id, default);
        Assert.Equal(15, reports.Count);
        Assert.All(reports, r => Assert.Equal(8000, r.BytesReceived));
    }
}
