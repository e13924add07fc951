using MassTransit;
using Treecast.Contracts;
using Treecast.Policy.Policies;

namespace Treecast.Policy.Evaluation;

/// <summary>Decides, from an event and the policies in force, which operations and watches to start. Touches nothing.</summary>
public sealed class PolicyEvaluator
{
    public PolicyEvaluation Evaluate(ObservedEvent observed, IReadOnlyList<ExecutionPolicy> policies, DateTimeOffset now)
    {
        var matched = new List<string>();
        var broadcasts = new List<BroadcastRequested>();
        var watches = new List<DeadlineWatchRequested>();
        var skipped = new List<string>();

        foreach (var policy in policies)
        {
            if (!Matches(policy.On, observed))
            {
                continue;
            }

            matched.Add(policy.Name);
            for (var index = 0; index < policy.Actions.Count; index++)
            {
                switch (policy.Actions[index])
                {
                    case BroadcastAction broadcast:
                        broadcasts.Add(new BroadcastRequested(
                            observed.EventId is null
                                ? NewId.NextGuid()
                                : DeterministicGuid.ForBroadcast(policy.Name, observed.EventId, index),
                            observed.Vmm,
                            BroadcastMode.Broadcast,
                            broadcast.FanOut,
                            broadcast.ChunkSizeBytes,
                            policy.Name,
                            observed.Describe(),
                            now,
                            broadcast.Stripes));
                        break;

                    case DuplicateIfNotCompletedWithinAction when observed.WorkloadId is null:
                        skipped.Add($"{policy.Name}: {PolicyActionNames.DuplicateIfNotCompletedWithin} needs the event's workloadId");
                        break;

                    case DuplicateIfNotCompletedWithinAction duplicate:
                        watches.Add(new DeadlineWatchRequested(
                            DeterministicGuid.ForDeadlineWatch(policy.Name, observed.WorkloadId, index),
                            observed.WorkloadId,
                            observed.Vmm,
                            duplicate.Deadline,
                            duplicate.FanOut,
                            duplicate.ChunkSizeBytes,
                            policy.Name,
                            now,
                            duplicate.Stripes));
                        break;
                }
            }
        }

        return new PolicyEvaluation(observed, matched, broadcasts, watches, skipped);
    }

    private static bool Matches(EventTrigger trigger, ObservedEvent observed)
    {
        if (!string.Equals(trigger.Type, observed.Type, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        foreach (var (field, accepted) in trigger.Match)
        {
            var actual = observed.Field(field);
            if (actual is null || !accepted.Any(value => string.Equals(value, actual, StringComparison.OrdinalIgnoreCase)))
            {
                return false;
            }
        }

        return true;
    }
}
