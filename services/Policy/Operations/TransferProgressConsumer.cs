using MassTransit;
using Treecast.Contracts;

namespace Treecast.Policy.Operations;

/// <summary>
/// Writes receivers' progress reports to the <see cref="IOperationProgressStore"/>. The broadcast saga does not consume
/// them: its document moves only on ready, verified, failed and resumed.
/// </summary>
public sealed class TransferProgressConsumer(IOperationProgressStore progress, TimeProvider clock) : IConsumer<TransferProgressed>
{
    public Task Consume(ConsumeContext<TransferProgressed> context) =>
        progress.RecordAsync(context.Message, clock.GetUtcNow(), context.CancellationToken);
}
