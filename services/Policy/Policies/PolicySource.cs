namespace Treecast.Policy.Policies;

/// <summary>Where a policy was read from: the file as named to the loader, the SHA-256 (lower-case hex) of its content, and where the policy starts in it.</summary>
public sealed record PolicySource(string File, string Sha256, int Line, int Column);
