using MassTransit;
using Microsoft.Extensions.Logging.Abstractions;
using Treecast.Policy.Sagas;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_the_broadcast_saga_endpoint_is_configured
{
    [Fact]
    public void Should_partition_every_message_type_the_saga_consumes_by_operation()
    {
        var machine = new BroadcastOperationStateMachine(TimeProvider.System, NullLogger<BroadcastOperationStateMachine>.Instance);

        var consumed = machine.Events
            .Select(e => e.GetType())
            .Where(t => t.IsGenericType)
            .Select(t => t.GetGenericArguments()[0])
            .ToHashSet();

        // A message type left out would be handled beside the others of its operation and could conflict with them.
        Assert.Subset(BroadcastOperationSagaDefinition.PartitionedMessages.ToHashSet(), consumed);
        Assert.Subset(consumed, BroadcastOperationSagaDefinition.PartitionedMessages.ToHashSet());
    }
}
