using MassTransit;
using Treecast.Contracts;
using Treecast.Policy.Evaluation;

namespace Treecast.Policy.Ingress;

/// <summary>Evaluates policies for a completed workload, whether an agent or an external system reported it.</summary>
public sealed class WorkloadCompletedConsumer(ObservedEventDispatcher dispatcher) : IConsumer<WorkloadCompleted>
{
    public Task Consume(ConsumeContext<WorkloadCompleted> context) =>
        dispatcher.DispatchAsync(
            ObservedEvent.FromWorkloadCompleted(context.Message, context.MessageId?.ToString()),
            context,
            context.CancellationToken);
}
