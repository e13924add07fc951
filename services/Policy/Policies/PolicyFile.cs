namespace Treecast.Policy.Policies;

/// <summary>A loaded policy file: its name as given to the loader, the SHA-256 (lower-case hex) of its bytes, and the policies it defines.</summary>
public sealed record PolicyFile(string File, string Sha256, IReadOnlyList<string> PolicyNames);
