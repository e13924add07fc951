using MongoDB.Bson.Serialization.Attributes;

namespace Treecast.Policy.Policies;

/// <summary>
/// A policy file of the set in force, as recorded for operators (a document of the <c>policies</c> collection,
/// keyed by the file's path): which file, which content (SHA-256), which policies, loaded when.
/// </summary>
public sealed class PolicyFileRecord
{
    [BsonId]
    public string File { get; set; } = string.Empty;

    public string Sha256 { get; set; } = string.Empty;

    public List<string> PolicyNames { get; set; } = [];

    public DateTimeOffset LoadedAt { get; set; }

    public static PolicyFileRecord From(PolicyFile file, DateTimeOffset loadedAt)
    {
        ArgumentNullException.ThrowIfNull(file);
        return new PolicyFileRecord
        {
            File = file.File,
            Sha256 = file.Sha256,
            PolicyNames = [.. file.PolicyNames],
            LoadedAt = loadedAt,
        };
    }

    /// <summary>The files of a policy set, in the set's order.</summary>
    public static IReadOnlyList<PolicyFileRecord> Of(PolicySet policies)
    {
        ArgumentNullException.ThrowIfNull(policies);
        return policies.Files.Select(f => From(f, policies.LoadedAt)).ToList();
    }
}
