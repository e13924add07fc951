using MassTransit;
using Treecast.Contracts;

namespace Treecast.Policy.Sagas;

/// <summary>
/// The broadcast saga's receive endpoint: its outbox, and one partitioner keyed by the operation id for every message
/// type the saga consumes, so the messages of one operation are handled one at a time and never conflict over its
/// document (with MongoDB, a conflict costs retries and, under load, faults); different operations still run in parallel.
/// </summary>
public sealed class BroadcastOperationSagaDefinition : SagaDefinition<BroadcastOperationState>
{
    /// <summary>How many operations the endpoint handles at once.</summary>
    public const int Partitions = 16;

    /// <summary>Every message type the broadcast saga consumes, with the operation it belongs to.</summary>
    public static IReadOnlyCollection<Type> PartitionedMessages { get; } =
    [
        typeof(BroadcastRequested), typeof(TreeResolved), typeof(TreeResolutionFailed), typeof(VmsPaused),
        typeof(VmImagesSealed), typeof(ReadyToReceive), typeof(VmsReceived), typeof(VmsResumed),
        typeof(OperationStepFailed), typeof(TimerFired), typeof(OperationVmmLost), typeof(ParentUnreachable),
        typeof(TreeRepaired), typeof(ReceiveResumed), typeof(CancelOperation),
    ];

    protected override void ConfigureSaga(
        IReceiveEndpointConfigurator endpointConfigurator,
        ISagaConfigurator<BroadcastOperationState> sagaConfigurator,
        IRegistrationContext context)
    {
        // No retry of our own: Treecast.Hosting configures one on the bus, outside this outbox (see OutboxSagaDefinition).
        endpointConfigurator.UseInMemoryOutbox(context);

        var partition = endpointConfigurator.CreatePartitioner(Partitions);
        sagaConfigurator.Message<BroadcastRequested>(x => x.UsePartitioner(partition, m => m.Message.OperationId));
        sagaConfigurator.Message<TreeResolved>(x => x.UsePartitioner(partition, m => m.Message.OperationId));
        sagaConfigurator.Message<TreeResolutionFailed>(x => x.UsePartitioner(partition, m => m.Message.OperationId));
        sagaConfigurator.Message<VmsPaused>(x => x.UsePartitioner(partition, m => m.Message.OperationId));
        sagaConfigurator.Message<VmImagesSealed>(x => x.UsePartitioner(partition, m => m.Message.OperationId));
        sagaConfigurator.Message<ReadyToReceive>(x => x.UsePartitioner(partition, m => m.Message.OperationId));
        sagaConfigurator.Message<VmsReceived>(x => x.UsePartitioner(partition, m => m.Message.OperationId));
        sagaConfigurator.Message<VmsResumed>(x => x.UsePartitioner(partition, m => m.Message.OperationId));
        sagaConfigurator.Message<OperationStepFailed>(x => x.UsePartitioner(partition, m => m.Message.OperationId));
        sagaConfigurator.Message<TimerFired>(x => x.UsePartitioner(partition, m => m.Message.CorrelationId));
        sagaConfigurator.Message<OperationVmmLost>(x => x.UsePartitioner(partition, m => m.Message.OperationId));
        sagaConfigurator.Message<ParentUnreachable>(x => x.UsePartitioner(partition, m => m.Message.OperationId));
        sagaConfigurator.Message<TreeRepaired>(x => x.UsePartitioner(partition, m => m.Message.OperationId));
        sagaConfigurator.Message<ReceiveResumed>(x => x.UsePartitioner(partition, m => m.Message.OperationId));
        sagaConfigurator.Message<CancelOperation>(x => x.UsePartitioner(partition, m => m.Message.OperationId));
    }
}
