using MassTransit;
using Treecast.Hosting.Telemetry;
using Treecast.Policy.Policies;

namespace Treecast.Policy.Evaluation;

/// <summary>Evaluates an observed event against the policies in force and publishes what they decide.</summary>
public sealed class ObservedEventDispatcher(
    IPolicyStore store,
    PolicyEvaluator evaluator,
    UnmatchedEvents unmatched,
    TimeProvider time,
    ILogger<ObservedEventDispatcher> logger)
{
    public async Task<PolicyEvaluation> DispatchAsync(ObservedEvent observed, IPublishEndpoint publish, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var evaluation = evaluator.Evaluate(observed, store.Current.Policies, now);
        if (evaluation.MatchedPolicies.Count == 0)
        {
            // Counted and summarised (UnmatchedEventsSummary); a line each only at Debug.
            unmatched.Record(observed, now);
            logger.LogDebug(
                "Event {EventType} {EventId} on {VmmId}: no policy matched",
                observed.Type,
                observed.EventId,
                observed.Vmm);
            return evaluation;
        }

        TreecastMetrics.EventsMatched.Add(1, new KeyValuePair<string, object?>("type", observed.Type));
        logger.LogInformation(
            "Event {EventType} {EventId} on {VmmId} matched {Policies}: {BroadcastCount} broadcast(s), {WatchCount} deadline watch(es)",
            observed.Type,
            observed.EventId,
            observed.Vmm,
            evaluation.MatchedPolicies,
            evaluation.Broadcasts.Count,
            evaluation.DeadlineWatches.Count);
        foreach (var skipped in evaluation.Skipped)
        {
            logger.LogWarning("Event {EventType} {EventId}: skipped {SkippedAction}", observed.Type, observed.EventId, skipped);
        }

        foreach (var broadcast in evaluation.Broadcasts)
        {
            await publish.Publish(broadcast, cancellationToken);
        }

        foreach (var watch in evaluation.DeadlineWatches)
        {
            await publish.Publish(watch, cancellationToken);
        }

        return evaluation;
    }
}
