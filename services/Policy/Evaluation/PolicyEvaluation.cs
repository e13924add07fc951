using Treecast.Contracts;

namespace Treecast.Policy.Evaluation;

/// <summary>What the policies decided for one event: the policies that matched and the messages to publish.</summary>
/// <param name="Skipped">Actions a matching policy could not take for this event, with the reason.</param>
public sealed record PolicyEvaluation(
    ObservedEvent Event,
    IReadOnlyList<string> MatchedPolicies,
    IReadOnlyList<BroadcastRequested> Broadcasts,
    IReadOnlyList<DeadlineWatchRequested> DeadlineWatches,
    IReadOnlyList<string> Skipped);
