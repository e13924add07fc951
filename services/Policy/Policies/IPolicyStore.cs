namespace Treecast.Policy.Policies;

/// <summary>
/// Holds the policy set in force. In memory today; a MongoDB store will keep each policy's source file and
/// content hash, which is why <see cref="PolicySet"/> carries them.
/// </summary>
public interface IPolicyStore
{
    PolicySet Current { get; }

    void Replace(PolicySet policies);
}
