using MassTransit;

namespace Treecast.Persistence.Tests.Support;

/// <summary>The smallest saga that exercises every repository operation: created, changed, finalized.</summary>
public sealed class CounterSaga : SagaStateMachineInstance, ISagaVersion
{
    public Guid CorrelationId { get; set; }

    public string CurrentState { get; set; } = string.Empty;

    public int Version { get; set; }

    public string Label { get; set; } = string.Empty;

    public int Count { get; set; }

    public DateTimeOffset StartedAt { get; set; }
}
