using MassTransit;
using Treecast.Contracts;
using Treecast.Hosting.Telemetry;
using Treecast.Policy.Evaluation;
using Treecast.Policy.Policies;

namespace Treecast.Policy.Ingress;

/// <summary>
/// Consumes the plain JSON events of external monitoring systems. A malformed event throws
/// <see cref="MalformedExternalEventException"/> and lands, unretried, in the endpoint's <c>_error</c> queue.
/// </summary>
public sealed class ExternalEventConsumer(
    ObservedEventDispatcher dispatcher,
    TimeProvider time,
    ILogger<ExternalEventConsumer> logger) : IConsumer<ExternalEvent>
{
    public async Task Consume(ConsumeContext<ExternalEvent> context)
    {
        ObservedEvent observed;
        try
        {
            observed = ObservedEvent.FromExternal(context.Message);
        }
        catch (MalformedExternalEventException ex)
        {
            TreecastMetrics.EventsRejected.Add(1, new KeyValuePair<string, object?>("field", ex.Field));
            throw;
        }

        TreecastMetrics.EventsReceived.Add(1, new KeyValuePair<string, object?>("type", observed.Type));
        if (observed.Type == EventTypes.WorkloadCompleted)
        {
            // The deadline saga listens for the agents' contract; external completions join that path, and
            // policies on workload.completed are evaluated once, where that contract is consumed.
            var completed = new WorkloadCompleted(
                observed.WorkloadId!,
                observed.Vmm,
                context.Message.OccurredAt ?? time.GetUtcNow());
            await context.Publish(completed, context.CancellationToken);
            logger.LogInformation(
                "Event {EventType} {EventId} on {VmmId}: republished as WorkloadCompleted for workload {WorkloadId}",
                observed.Type,
                observed.EventId,
                observed.Vmm,
                observed.WorkloadId);
            return;
        }

        await dispatcher.DispatchAsync(observed, context, context.CancellationToken);
    }
}
