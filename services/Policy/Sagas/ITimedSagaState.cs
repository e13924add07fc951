using MassTransit;

namespace Treecast.Policy.Sagas;

/// <summary>
/// What <see cref="SagaActivities"/> needs of a saga's state, so that both sagas schedule, cancel and record
/// through one set of steps instead of a copy each.
/// </summary>
public interface ITimedSagaState : SagaStateMachineInstance
{
    /// <summary>The scheduler timer pending for the instance; a <see cref="Treecast.Contracts.TimerFired"/> with another id is stale.</summary>
    Guid? TimerId { get; set; }

    List<StateTransition> History { get; }
}
