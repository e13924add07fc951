namespace Treecast.Policy.Policies;

/// <summary>
/// Holds the policy set in force, which is always what the loader produced from the policy files, and records
/// which files (path, content hash, policy names) that set came from.
/// </summary>
public interface IPolicyStore
{
    PolicySet Current { get; }

    void Replace(PolicySet policies);

    /// <summary>
    /// The files of the set in force as the store records them, once every earlier <see cref="Replace"/> is
    /// recorded; a persistent store keeps them for operators across restarts.
    /// </summary>
    Task<IReadOnlyList<PolicyFileRecord>> RecordedFilesAsync(CancellationToken cancellationToken);
}
