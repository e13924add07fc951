using Treecast.Policy.Workloads;

namespace Treecast.Policy.Tests.Stores;

/// <summary>The workload ledger contract against the in-memory ledger, the embedded default: always runs.</summary>
public sealed class InMemoryWorkloadLedgerSpecs : WorkloadLedgerContract
{
    protected override IWorkloadLedger CreateLedger() => new InMemoryWorkloadLedger();
}
