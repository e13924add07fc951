using MassTransit;
using Treecast.Contracts;

namespace Treecast.Persistence.Tests.Bson;

/// <summary>A saga document with every kind of member Treecast's sagas hold, for the mapping specs.</summary>
public sealed class InspectedSaga : SagaStateMachineInstance, ISagaVersion
{
    public Guid CorrelationId { get; set; }

    public string CurrentState { get; set; } = string.Empty;

    public int Version { get; set; }

    public BroadcastMode Mode { get; set; }

    public Guid? StepTimerId { get; set; }

    public Guid? NoTimerId { get; set; }

    public DateTimeOffset RequestedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public TimeSpan Deadline { get; set; }

    public VmmTree? Tree { get; set; }

    public List<VmImage> Vms { get; set; } = [];

    public List<HostProgress> Hosts { get; set; } = [];

    public Dictionary<string, long> BytesByVmm { get; set; } = [];

    public List<Transition> History { get; set; } = [];
}
