using MassTransit;
using Treecast.Contracts;
using Treecast.TestSupport.Harness;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_an_event_names_no_operation : SagaSpecification
{
    [Fact]
    public async Task Should_discard_it_without_a_fault()
    {
        var unknown = NewId.NextGuid();

        await Publish(new VmsPaused(unknown, TestTree.Root, TestTree.Vms));
        await Publish(new OperationStepFailed(unknown, "vmm-1", OperationStep.Receive, "unknown operation"));
        await Publish(Fire(NewId.NextGuid(), unknown, "broadcast:Pausing"));

        Assert.True(await Harness.Consumed.ShowsAsync<VmsPaused>(m => m.OperationId == unknown));
        Assert.True(await Harness.Consumed.ShowsAsync<TimerFired>(m => m.CorrelationId == unknown));
        await AssertNoFaults();
        Assert.Null(Operations.Sagas.Contains(unknown));
        Assert.Null(Watches.Sagas.Contains(unknown));
    }
}
