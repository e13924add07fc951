namespace Treecast.Policy.Policies;

/// <summary>The policies in force, with the files they came from.</summary>
public sealed record PolicySet(
    IReadOnlyList<ExecutionPolicy> Policies,
    IReadOnlyList<PolicyFile> Files,
    DateTimeOffset LoadedAt)
{
    public static PolicySet Empty { get; } = new([], [], DateTimeOffset.MinValue);
}
