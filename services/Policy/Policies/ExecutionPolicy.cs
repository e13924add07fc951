namespace Treecast.Policy.Policies;

/// <summary>One execution policy: which events (<see cref="On"/>) trigger which <see cref="Actions"/>.</summary>
/// <param name="Source">The file the policy was read from, with that file's content hash.</param>
public sealed record ExecutionPolicy(
    string Name,
    EventTrigger On,
    IReadOnlyList<PolicyAction> Actions,
    PolicySource Source);
