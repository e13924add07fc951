namespace Treecast.Policy;

/// <summary>
/// How a deadline watch decides once its deadline passed. Bound from <c>Policy:Deadline</c> (environment:
/// <c>Policy__Deadline__ConfirmTimeout=00:00:10</c>).
/// </summary>
public sealed class DeadlineWatchOptions
{
    public const string Section = "Policy:Deadline";

    /// <summary>
    /// How long the watch waits for the root's agent to say whether the workload completed before it duplicates
    /// anyway (an agent that does not answer may be the very straggler the duplication is for).
    /// </summary>
    public TimeSpan ConfirmTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
