using MassTransit;
using Treecast.Contracts;
using Treecast.Policy.Evaluation;

namespace Treecast.Policy.Ingress;

/// <summary>Evaluates policies for a workload an agent started, exactly as for an external <c>workload.started</c>.</summary>
public sealed class WorkloadStartedConsumer(ObservedEventDispatcher dispatcher) : IConsumer<WorkloadStarted>
{
    public Task Consume(ConsumeContext<WorkloadStarted> context) =>
        // The message id is the event id: a redelivery then yields the same operation ids.
        dispatcher.DispatchAsync(
            ObservedEvent.FromWorkloadStarted(context.Message, context.MessageId?.ToString()),
            context,
            context.CancellationToken);
}
