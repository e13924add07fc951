namespace Treecast.Policy.Policies;

/// <summary>One problem in a policy file: where it is (1-based line and column) and what to do about it.</summary>
/// <param name="Reason">The problem, followed by the fix in parentheses.</param>
public sealed record PolicyError(string File, int Line, int Column, string Reason)
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Reason}";
}
