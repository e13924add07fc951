namespace Treecast.Policy.Policies;

public sealed class InMemoryPolicyStore : IPolicyStore
{
    // Replaced whole, never mutated: readers on consumer threads see either the old set or the new one.
    private volatile PolicySet _current = PolicySet.Empty;

    public PolicySet Current => _current;

    public void Replace(PolicySet policies) => _current = policies;

    public Task<IReadOnlyList<PolicyFileRecord>> RecordedFilesAsync(CancellationToken cancellationToken) =>
        Task.FromResult(PolicyFileRecord.Of(_current));
}
