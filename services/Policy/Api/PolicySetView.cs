using Treecast.Policy.Policies;

namespace Treecast.Policy.Api;

/// <summary>The JSON answer describing a set of policies and the files (with SHA-256) they came from.</summary>
public sealed record PolicySetView(
    DateTimeOffset LoadedAt,
    IReadOnlyList<PolicyFile> Files,
    IReadOnlyList<ExecutionPolicy> Policies)
{
    public PolicySetView(PolicySet set)
        : this(set.LoadedAt, set.Files, set.Policies)
    {
    }
}
