using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Treecast.Contracts;
using Treecast.Policy.Evaluation;
using Treecast.Policy.Tests.Support;
using Treecast.Policy.Workloads;
using Treecast.TestSupport;
using Treecast.TestSupport.Harness;

namespace Treecast.Policy.Tests.Ingress;

public sealed class When_external_events_are_consumed : IAsyncLifetime
{
    private PolicyServiceHarness _service = null!;

    public async Task InitializeAsync() => _service = await PolicyServiceHarness.StartAsync(Yaml.Both);

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Fact]
    public async Task Should_start_a_broadcast_rooted_at_a_degraded_host()
    {
        await SendAsync(new ExternalEvent { Type = "host.degraded", Vmm = "host-07", Severity = "Critical", EventId = "e-1" });

        var broadcast = await PublishedAsync<BroadcastRequested>();
        Assert.Equal("host-07", broadcast.RootVmmId);
        Assert.Equal(BroadcastMode.Broadcast, broadcast.Mode);
        Assert.Equal(3, broadcast.FanOut);
        Assert.Equal(256 * 1024, broadcast.ChunkSizeBytes);
        Assert.Equal("broadcast-on-degraded-host", broadcast.PolicyName);
        Assert.Equal(DeterministicGuid.ForBroadcast("broadcast-on-degraded-host", "e-1", 0), broadcast.OperationId);
    }

    [Fact]
    public async Task Should_receive_a_published_external_event_in_memory()
    {
        // The standalone host injects external events by publishing the contract.
        await _service.Bus.Bus.Publish(new ExternalEvent { Type = "host.degraded", Vmm = "host-08", Severity = "major" });

        var broadcast = await PublishedAsync<BroadcastRequested>();
        Assert.Equal("host-08", broadcast.RootVmmId);
    }

    [Fact]
    public async Task Should_start_a_deadline_watch_for_a_started_workload()
    {
        await SendAsync(new ExternalEvent { Type = "workload.started", Vmm = "host-02", WorkloadId = "w-9" });

        var watch = await PublishedAsync<DeadlineWatchRequested>();
        Assert.Equal("w-9", watch.WorkloadId);
        Assert.Equal("host-02", watch.RootVmmId);
        Assert.Equal(TimeSpan.FromSeconds(30), watch.Deadline);
        Assert.Equal(4, watch.FanOut);
        Assert.Equal(512 * 1024, watch.ChunkSizeBytes);
        Assert.Equal(DeterministicGuid.ForDeadlineWatch("duplicate-stragglers", "w-9", 0), watch.WatchId);
    }

    [Fact]
    public async Task Should_start_a_deadline_watch_for_an_agents_workload_started_too()
    {
        await _service.Bus.Bus.Publish(new WorkloadStarted("w-10", "host-04", DateTimeOffset.UtcNow));

        var watch = await PublishedAsync<DeadlineWatchRequested>();
        Assert.Equal("w-10", watch.WorkloadId);
        Assert.Equal("host-04", watch.RootVmmId);
    }

    [Fact]
    public async Task Should_republish_an_external_completion_as_the_agents_contract()
    {
        var completedAt = new DateTimeOffset(2025, 11, 25, 9, 0, 0, TimeSpan.Zero);
        await SendAsync(new ExternalEvent { Type = "workload.completed", Vmm = "host-02", WorkloadId = "w-9", OccurredAt = completedAt });

        var completed = await PublishedAsync<WorkloadCompleted>();
        Assert.Equal(new WorkloadCompleted("w-9", "host-02", completedAt), completed);
    }

    [Fact]
    public async Task Should_record_a_completion_in_the_workload_ledger_whichever_way_it_came()
    {
        var completedAt = new DateTimeOffset(2025, 11, 25, 9, 0, 0, TimeSpan.Zero);
        await SendAsync(new ExternalEvent { Type = "workload.completed", Vmm = "host-02", WorkloadId = "w-9", OccurredAt = completedAt });
        await _service.Bus.Bus.Publish(new WorkloadCompleted("w-10", "host-04", completedAt.AddMinutes(1)));

        var ledger = _service.Services.GetRequiredService<IWorkloadLedger>();
        Assert.True(await Eventually.TrueAsync(async () =>
            await ledger.FindCompletionAsync("w-9", CancellationToken.None) is not null
            && await ledger.FindCompletionAsync("w-10", CancellationToken.None) is not null));
        Assert.Equal(new WorkloadCompletion("w-9", "host-02", completedAt), await ledger.FindCompletionAsync("w-9", CancellationToken.None));
        Assert.Equal(new WorkloadCompletion("w-10", "host-04", completedAt.AddMinutes(1)), await ledger.FindCompletionAsync("w-10", CancellationToken.None));
    }

    [Fact]
    public async Task Should_fault_a_completion_that_names_no_workload_once()
    {
        await _service.Bus.Bus.Publish(new WorkloadCompleted(" ", "host-04", DateTimeOffset.UtcNow));

        Assert.True(await _service.Bus.Published.ShowsAsync<Fault<WorkloadCompleted>>());
        Assert.Equal(1, _service.Attempts.OfSingle<WorkloadCompleted>());
        var exception = Assert.Single(_service.Bus.Published.Now<Fault<WorkloadCompleted>>().Single().Exceptions);
        Assert.Contains("a WorkloadCompleted from VMM 'host-04' names no workload", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("host.exploded", "host-01", "unknown event type 'host.exploded'")]
    [InlineData(null, "host-01", "the event has no 'type'")]
    [InlineData("host.degraded", null, "a 'host.degraded' event has no 'vmm'")]
    public async Task Should_fault_a_malformed_event_once_and_publish_nothing(string? type, string? vmm, string reason)
    {
        await SendAsync(new ExternalEvent { Type = type, Vmm = vmm, Severity = "critical", EventId = "bad-1" });

        Assert.True(await _service.Bus.Published.ShowsAsync<Fault<ExternalEvent>>());

        // Not retried: a malformed event fails the same way every time (the bus-wide retry would try it 5 more times).
        Assert.Equal(1, _service.Attempts.OfSingle<ExternalEvent>());
        var fault = _service.Bus.Published.Now<Fault<ExternalEvent>>().Single();
        var exception = Assert.Single(fault.Exceptions);
        Assert.Equal(typeof(MalformedExternalEventException).FullName, exception.ExceptionType);
        Assert.Contains(reason, exception.Message, StringComparison.Ordinal);
        Assert.False(await _service.Bus.Published.Any<BroadcastRequested>());
    }

    [Fact]
    public async Task Should_request_the_same_operation_for_a_redelivered_event()
    {
        var degraded = new ExternalEvent { Type = "host.degraded", Vmm = "host-07", Severity = "critical", EventId = "e-42" };
        await SendAsync(degraded);
        await SendAsync(degraded);
        await SendAsync(degraded with { EventId = "e-43" });

        Assert.True(await Eventually.TrueAsync(() => _service.Bus.Consumed.Now<ExternalEvent>().Count >= 3));
        var ids = _service.Bus.Published.Now<BroadcastRequested>().Select(m => m.OperationId).ToList();
        Assert.Equal(3, ids.Count);
        Assert.Equal(2, ids.Distinct().Count());
    }

    [Fact]
    public async Task Should_publish_nothing_for_an_event_no_policy_matches()
    {
        await SendAsync(new ExternalEvent { Type = "host.degraded", Vmm = "host-07", Severity = "minor", EventId = "e-7" });

        Assert.True(await _service.Bus.Consumed.ShowsAsync<ExternalEvent>());
        Assert.False(await _service.Bus.Published.Any<BroadcastRequested>());
        var (total, recent) = _service.Services.GetRequiredService<UnmatchedEvents>().Snapshot();
        Assert.Equal(1, total);
        Assert.Equal("host.degraded (minor) on host-07, event e-7", Assert.Single(recent).Description);
    }

    [Fact]
    public async Task Should_not_count_an_event_that_matched_as_unmatched()
    {
        await SendAsync(new ExternalEvent { Type = "host.degraded", Vmm = "host-07", Severity = "critical", EventId = "e-8" });

        await PublishedAsync<BroadcastRequested>();
        Assert.Equal(0, _service.Services.GetRequiredService<UnmatchedEvents>().Snapshot().Total);
    }

    private async Task SendAsync(ExternalEvent external)
    {
        var endpoint = await _service.Bus.Bus.GetSendEndpoint(new Uri($"queue:{Addresses.PolicyExternalEventsQueue}"));
        await endpoint.Send(external);
    }

    private async Task<T> PublishedAsync<T>()
        where T : class
    {
        Assert.True(await _service.Bus.Published.ShowsAsync<T>(), $"no {typeof(T).Name} was published");
        return _service.Bus.Published.Now<T>()[0];
    }
}
