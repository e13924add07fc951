using MassTransit;
using Treecast.Contracts;

namespace Treecast.Policy.Operations;

/// <summary>
/// Writes receivers' progress reports to the <see cref="IOperationProgressStore"/>, the reports that arrived together in
/// one write (<see cref="TransferProgressConsumerDefinition"/>). The broadcast saga does not consume them: its document
/// moves only on ready, verified, failed and resumed.
/// </summary>
public sealed class TransferProgressConsumer(IOperationProgressStore progress, TimeProvider clock) : IConsumer<Batch<TransferProgressed>>
{
    public Task Consume(ConsumeContext<Batch<TransferProgressed>> context) =>
        progress.RecordAllAsync(context.Message.Select(m => m.Message).ToList(), clock.GetUtcNow(), context.CancellationToken);
}
