using Treecast.Policy.Workloads;

namespace Treecast.Policy.Tests.Stores;

/// <summary>What every workload ledger must do, asserted the same way against each. A subclass names the ledger.</summary>
public abstract class WorkloadLedgerContract
{
    protected static readonly DateTimeOffset CompletedAt = new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.FromHours(1)).AddTicks(1_234_567);

    /// <summary>An empty ledger; skips the test, with the reason, when the store is not reachable here.</summary>
    protected abstract IWorkloadLedger CreateLedger();

    [SkippableFact]
    public async Task Should_hold_no_completion_for_a_workload_never_reported()
    {
        var ledger = CreateLedger();

        Assert.Null(await ledger.FindCompletionAsync("wl-unknown", CancellationToken.None));
    }

    [SkippableFact]
    public async Task Should_hold_a_completion_exactly_as_reported()
    {
        var ledger = CreateLedger();

        await ledger.RecordCompletionAsync(new WorkloadCompletion("wl-1", "vmm-3", CompletedAt), CancellationToken.None);

        var found = await ledger.FindCompletionAsync("wl-1", CancellationToken.None);
        Assert.Equal(new WorkloadCompletion("wl-1", "vmm-3", CompletedAt), found);
        Assert.Equal(CompletedAt.Offset, found!.CompletedAt.Offset);
    }

    [SkippableFact]
    public async Task Should_record_a_redelivered_completion_once()
    {
        var ledger = CreateLedger();
        var completion = new WorkloadCompletion("wl-1", "vmm-3", CompletedAt);

        await ledger.RecordCompletionAsync(completion, CancellationToken.None);
        await ledger.RecordCompletionAsync(completion, CancellationToken.None);

        Assert.Equal(completion, await ledger.FindCompletionAsync("wl-1", CancellationToken.None));
    }

    [SkippableFact]
    public async Task Should_keep_the_earliest_completion_whichever_is_reported_first()
    {
        var ledger = CreateLedger();
        var earliest = new WorkloadCompletion("wl-late-first", "vmm-1", CompletedAt);
        var later = new WorkloadCompletion("wl-late-first", "vmm-2", CompletedAt.AddTicks(1));
        var otherOrder = new WorkloadCompletion("wl-early-first", "vmm-1", CompletedAt);

        await ledger.RecordCompletionAsync(later, CancellationToken.None);
        await ledger.RecordCompletionAsync(earliest, CancellationToken.None);
        await ledger.RecordCompletionAsync(otherOrder, CancellationToken.None);
        await ledger.RecordCompletionAsync(otherOrder with { VmmId = "vmm-2", CompletedAt = CompletedAt.AddHours(1) }, CancellationToken.None);

        Assert.Equal(earliest, await ledger.FindCompletionAsync("wl-late-first", CancellationToken.None));
        Assert.Equal(otherOrder, await ledger.FindCompletionAsync("wl-early-first", CancellationToken.None));
    }

    [SkippableFact]
    public async Task Should_compare_instants_not_local_times()
    {
        var ledger = CreateLedger();
        var utc = new WorkloadCompletion("wl-1", "vmm-1", new DateTimeOffset(2026, 11, 25, 9, 30, 0, TimeSpan.Zero));

        // 10:00 at +01:00 is 09:00 UTC: earlier, though its local time is later.
        var earlierAbroad = new WorkloadCompletion("wl-1", "vmm-2", new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.FromHours(1)));
        await ledger.RecordCompletionAsync(utc, CancellationToken.None);
        await ledger.RecordCompletionAsync(earlierAbroad, CancellationToken.None);

        Assert.Equal(earlierAbroad, await ledger.FindCompletionAsync("wl-1", CancellationToken.None));
    }

    [SkippableFact]
    public async Task Should_keep_the_earliest_of_concurrent_completions()
    {
        var ledger = CreateLedger();
        var completions = Enumerable.Range(0, 24)
            .Select(i => new WorkloadCompletion("wl-busy", $"vmm-{i}", CompletedAt.AddSeconds((i * 7) % 24)))
            .ToList();

        await Task.WhenAll(completions.Select(c => Task.Run(() => ledger.RecordCompletionAsync(c, CancellationToken.None))));

        Assert.Equal(completions[0], await ledger.FindCompletionAsync("wl-busy", CancellationToken.None));
    }

    [SkippableFact]
    public async Task Should_keep_workloads_apart()
    {
        var ledger = CreateLedger();

        await ledger.RecordCompletionAsync(new WorkloadCompletion("wl-a", "vmm-1", CompletedAt), CancellationToken.None);
        await ledger.RecordCompletionAsync(new WorkloadCompletion("wl-b", "vmm-2", CompletedAt.AddMinutes(-5)), CancellationToken.None);

        Assert.Equal(CompletedAt, (await ledger.FindCompletionAsync("wl-a", CancellationToken.None))!.CompletedAt);
        Assert.Equal("vmm-2", (await ledger.FindCompletionAsync("wl-b", CancellationToken.None))!.VmmId);
        Assert.Null(await ledger.FindCompletionAsync("WL-A", CancellationToken.None));
    }
}
