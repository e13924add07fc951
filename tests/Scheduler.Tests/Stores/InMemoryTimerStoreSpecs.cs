using Treecast.Scheduler.Timers;

namespace Treecast.Scheduler.Tests.Stores;

/// <summary>The timer store contract against the in-memory store, the embedded default: always runs.</summary>
public sealed class InMemoryTimerStoreSpecs : TimerStoreContract
{
    protected override ITimerStore CreateStore() => new InMemoryTimerStore();
}
