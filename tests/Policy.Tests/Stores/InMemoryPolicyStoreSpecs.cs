using Treecast.Policy.Policies;

namespace Treecast.Policy.Tests.Stores;

/// <summary>The policy store contract against the in-memory store, the embedded default: always runs.</summary>
public sealed class InMemoryPolicyStoreSpecs : PolicyStoreContract
{
    protected override IPolicyStore CreateStore() => new InMemoryPolicyStore();
}
