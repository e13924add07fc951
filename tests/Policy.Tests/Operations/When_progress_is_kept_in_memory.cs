using Treecast.Policy.Operations;

namespace Treecast.Policy.Tests.Operations;

public sealed class When_progress_is_kept_in_memory : OperationProgressStoreContract
{
    protected override IOperationProgressStore CreateStore() => new InMemoryOperationProgressStore();
}
