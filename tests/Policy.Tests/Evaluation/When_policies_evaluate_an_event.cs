using System.Text;
using Treecast.Contracts;
using Treecast.Policy.Evaluation;
using Treecast.Policy.Policies;

namespace Treecast.Policy.Tests.Evaluation;

public sealed class When_policies_evaluate_an_event
{
    private static readonly DateTimeOffset Now = new(2025, 11, 25, 8, 0, 0, TimeSpan.Zero);
    private readonly PolicyEvaluator _evaluator = new();

    private readonly IReadOnlyList<ExecutionPolicy> _policies = Load("""
        policies:
          - name: degraded-critical
            on:
              type: host.degraded
              match:
                severity: [critical, major]
                attributes.rack: R7
            actions:
              - broadcast:
                  fanOut: 3
                  chunkSizeKiB: 64
          - name: degraded-host-01
            on:
              type: host.degraded
              match:
                vmm: host-01
            actions:
              - broadcast:
          - name: stragglers
            on:
              type: workload.started
            actions:
              - duplicateIfNotCompletedWithin:
                  deadline: 5m
                  fanOut: 4
        """);

    [Fact]
    public void Should_request_a_broadcast_rooted_at_a_matching_events_vmm()
    {
        var evaluation = Evaluate(Event(EventTypes.HostDegraded, "host-02", "critical", rack: "r7", eventId: "e-1"));

        Assert.Equal(["degraded-critical"], evaluation.MatchedPolicies);
        var broadcast = Assert.Single(evaluation.Broadcasts);
        Assert.Equal("host-02", broadcast.RootVmmId);
        Assert.Equal(BroadcastMode.Broadcast, broadcast.Mode);
        Assert.Equal(3, broadcast.FanOut);
        Assert.Equal(64 * 1024, broadcast.ChunkSizeBytes);
        Assert.Equal("degraded-critical", broadcast.PolicyName);
        Assert.Equal(Now, broadcast.RequestedAt);
        Assert.Empty(evaluation.DeadlineWatches);
    }

    [Theory]
    [InlineData("MAJOR", "r7")]
    [InlineData("Critical", "R7")]
    public void Should_match_any_listed_value_ignoring_case(string severity, string rack)
    {
        var evaluation = Evaluate(Event(EventTypes.HostDegraded, "host-02", severity, rack));

        Assert.Equal(["degraded-critical"], evaluation.MatchedPolicies);
    }

    [Theory]
    [InlineData("minor", "r7")]
    [InlineData("critical", "r8")]
    [InlineData(null, "r7")]
    [InlineData("critical", null)]
    public void Should_not_match_when_a_field_differs_or_is_absent(string? severity, string? rack)
    {
        var evaluation = Evaluate(Event(EventTypes.HostDegraded, "host-02", severity, rack));

        Assert.Empty(evaluation.MatchedPolicies);
        Assert.Empty(evaluation.Broadcasts);
    }

    [Fact]
    public void Should_let_every_matching_policy_act()
    {
        var evaluation = Evaluate(Event(EventTypes.HostDegraded, "HOST-01", "critical", "r7"));

        Assert.Equal(["degraded-critical", "degraded-host-01"], evaluation.MatchedPolicies);
        Assert.Equal(2, evaluation.Broadcasts.Count);
    }

    [Fact]
    public void Should_match_the_event_type_only()
    {
        var evaluation = Evaluate(Event(EventTypes.BroadcastRequested, "host-01", "critical", "r7"));

        Assert.Empty(evaluation.MatchedPolicies);
    }

    [Fact]
    public void Should_give_a_started_workload_a_deadline_watch()
    {
        var started = ObservedEvent.FromWorkloadStarted(new WorkloadStarted("w-1", "host-03", Now), eventId: null);

        var evaluation = Evaluate(started);

        var watch = Assert.Single(evaluation.DeadlineWatches);
        Assert.Equal(new DeadlineWatchRequested(
            DeterministicGuid.ForDeadlineWatch("stragglers", "w-1", 0),
            "w-1",
            "host-03",
            TimeSpan.FromMinutes(5),
            4,
            ChunkSizes.DefaultBytes,
            "stragglers",
            Now), watch);
    }

    [Fact]
    public void Should_give_a_redelivered_event_the_same_ids_and_other_events_others()
    {
        var first = Evaluate(Event(EventTypes.HostDegraded, "host-01", "critical", "r7", eventId: "e-1"));
        var again = Evaluate(Event(EventTypes.HostDegraded, "host-01", "critical", "r7", eventId: "e-1"));
        var other = Evaluate(Event(EventTypes.HostDegraded, "host-01", "critical", "r7", eventId: "e-2"));
        var anonymous = Evaluate(Event(EventTypes.HostDegraded, "host-01", "critical", "r7"));
        var anonymousAgain = Evaluate(Event(EventTypes.HostDegraded, "host-01", "critical", "r7"));

        Assert.Equal(first.Broadcasts.Select(b => b.OperationId), again.Broadcasts.Select(b => b.OperationId));
        Assert.Empty(first.Broadcasts.Select(b => b.OperationId).Intersect(other.Broadcasts.Select(b => b.OperationId)));
        Assert.Equal(2, first.Broadcasts.Select(b => b.OperationId).Distinct().Count());
        Assert.Empty(anonymous.Broadcasts.Select(b => b.OperationId).Intersect(anonymousAgain.Broadcasts.Select(b => b.OperationId)));
    }

    private PolicyEvaluation Evaluate(ObservedEvent observed) => _evaluator.Evaluate(observed, _policies, Now);

    private static ObservedEvent Event(string type, string vmm, string? severity, string? rack, string? eventId = null) =>
        ObservedEvent.FromExternal(new ExternalEvent
        {
            Type = type,
            Vmm = vmm,
            Severity = severity,
            EventId = eventId,
            Attributes = rack is null
                ? null
                : new() { ["Rack"] = System.Text.Json.JsonSerializer.SerializeToElement(rack) },
        });

    private static IReadOnlyList<ExecutionPolicy> Load(string yaml) =>
        new PolicyLoader(new PolicyFileReader(), TimeProvider.System).Parse("test.yaml", Encoding.UTF8.GetBytes(yaml)).Policies;
}
