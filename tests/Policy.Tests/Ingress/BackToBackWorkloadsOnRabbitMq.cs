using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client;
using Treecast.Contracts;
using Treecast.Hosting;
using Treecast.Policy.Evaluation;
using Treecast.Policy.Sagas;
using Treecast.Policy.Tests.Support;
using Treecast.Scheduler;
using Treecast.TestSupport;
using Xunit.Abstractions;

namespace Treecast.Policy.Tests.Ingress;

/// <summary>
/// The finding, replayed: workload.started and workload.completed published back to back as plain JSON by
/// a monitoring system, on a real broker, to the real policy service with the real scheduler. The root's agent
/// is played by a stand-in that knows nothing of these (external) workloads, so only the policy service's own
/// record of the completions can keep them from being duplicated. A subclass names the stores.
/// </summary>
public abstract class BackToBackWorkloadsOnRabbitMq(RabbitMqBroker broker, ITestOutputHelper output)
{
    private const string PolicyName = "duplicate-stragglers";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    private static readonly string Policy = $$"""
        policies:
          - name: {{PolicyName}}
            on:
              type: workload.started
            actions:
              - duplicateIfNotCompletedWithin:
                  deadline: {{Deadline.TotalSeconds}}s
        """;

    private readonly string _root = $"host-{Guid.NewGuid():N}"[..17];

    /// <summary>The configuration that picks the stores; skips the test, with the reason, when they are not reachable here.</summary>
    protected abstract IReadOnlyDictionary<string, string?> StoreSettings();

    [SkippableFact]
    public async Task Should_duplicate_none_of_200_workloads_that_completed_whatever_the_order()
    {
        await using var service = await StartAsync();
        var workloads = Enumerable.Range(0, 200).Select(i => $"{_root}-wl-{i}").ToList();

        // Every third completion overtakes its start, as two monitoring pipelines may deliver them.
        await PublishAsync(workloads.SelectMany((workload, i) =>
        {
            var started = Event("workload.started", workload);
            var completed = Event("workload.completed", workload, DateTimeOffset.UtcNow);
            return i % 3 == 0 ? new[] { completed, started } : [started, completed];
        }));

        var watches = await DecidedAsync(service, workloads);
        output.WriteLine($"{watches.Count(w => w.History.Count == 1)} watches ended at creation, "
            + $"{watches.Count(w => w.History.Count > 1)} at their deadline; the root's agent was asked {service.Recorder.Received<QueryWorkload>().Count} time(s)");

        Assert.All(watches, w => Assert.Equal("CompletedInTime", w.CurrentState));
        Assert.All(watches, w => Assert.NotNull(w.CompletedAt));
        Assert.DoesNotContain(service.Recorder.Received<BroadcastRequested>(), b => b.Mode == BroadcastMode.Duplicate);
    }

    [SkippableFact]
    public async Task Should_duplicate_each_of_20_workloads_that_never_completed_exactly_once()
    {
        await using var service = await StartAsync();
        var workloads = Enumerable.Range(0, 20).Select(i => $"{_root}-stuck-{i}").ToList();

        // Each start twice: a monitoring system's redelivery must not watch (or duplicate) twice.
        await PublishAsync(workloads.SelectMany(workload => Enumerable.Repeat(Event("workload.started", workload), 2)));

        var watches = await DecidedAsync(service, workloads);
        Assert.All(watches, w => Assert.Contains(w.CurrentState, new[] { "Duplicating", "Failed" }));
        var expected = watches.Select(w => DeadlineWatchActivities.DuplicationOf(w.CorrelationId)).Order().ToList();
        Assert.Equal(expected, watches.Select(w => w.OperationId!.Value).Order().ToList());

        var requested = await DuplicationsAsync(service, expected.Count);
        Assert.Equal(expected, requested.Select(b => b.OperationId).Order().ToList());
        Assert.All(requested, b => Assert.Equal(_root, b.RootVmmId));
        Assert.Equal(20, service.Recorder.Received<QueryWorkload>().Select(q => q.WatchId).Distinct().Count());
    }

    private async Task<PolicyServiceHost> StartAsync()
    {
        var uri = broker.Require();
        return await PolicyServiceHost.StartAsync(
            Policy,
            uri,
            builder =>
            {
                builder.AddSchedulerService();
                builder.Services.AddBusParticipant(new BusParticipant(
                    "root-agent",
                    x => x.AddConsumer<RootAgentStandIn>().Endpoint(e => e.Name = Addresses.AgentQueue(_root))));
            },
            StoreSettings());
    }

    /// <summary>Publishes plain JSON on the external events exchange, back to back, in order.</summary>
    private async Task PublishAsync(IEnumerable<string> events)
    {
        await using var connection = await new ConnectionFactory { Uri = broker.Require() }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        foreach (var json in events)
        {
            await MonitoringSystem.PublishAsync(channel, json);
        }
    }

    private string Event(string type, string workloadId, DateTimeOffset? occurredAt = null)
    {
        var at = occurredAt is { } time ? $$""","occurredAt":"{{time:O}}" """.TrimEnd() : string.Empty;
        return $$"""{"type":"{{type}}","vmm":"{{_root}}","workloadId":"{{workloadId}}","eventId":"{{type}}/{{workloadId}}"{{at}}}""";
    }

    /// <summary>Waits until the watch of every workload exists and has decided: completed in time, or duplicating.</summary>
    private static async Task<IReadOnlyList<DeadlineWatchState>> DecidedAsync(PolicyServiceHost service, IReadOnlyList<string> workloads)
    {
        var sagas = service.Services.GetRequiredService<ILoadSagaRepository<DeadlineWatchState>>();
        var ids = workloads.Select(w => DeterministicGuid.ForDeadlineWatch(PolicyName, w, 0)).ToList();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var watches = new List<DeadlineWatchState>();
            foreach (var id in ids)
            {
                if (await sagas.Load(id) is { CurrentState: not ("Watching" or "Confirming") } watch)
                {
                    watches.Add(watch);
                }
            }

            if (watches.Count == ids.Count)
            {
                return watches;
            }

            Assert.True(waited.Elapsed < Patience, $"{ids.Count - watches.Count} of {ids.Count} watches had not decided after {Patience}");
            await Task.Delay(250);
        }
    }

    private static async Task<IReadOnlyList<BroadcastRequested>> DuplicationsAsync(PolicyServiceHost service, int count)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (service.Recorder.Received<BroadcastRequested>().Count(b => b.Mode == BroadcastMode.Duplicate) < count)
        {
            Assert.True(waited.Elapsed < Patience, $"fewer than {count} duplications were requested within {Patience}");
            await Task.Delay(250);
        }

        return service.Recorder.Received<BroadcastRequested>().Where(b => b.Mode == BroadcastMode.Duplicate).ToList();
    }
}
