namespace Treecast.Policy.Policies;

/// <summary>What one policy file holds: its valid policies and its errors (the file is usable only when there are none).</summary>
public sealed record PolicyFileContent(
    string File,
    string Sha256,
    IReadOnlyList<ExecutionPolicy> Policies,
    IReadOnlyList<PolicyError> Errors);
