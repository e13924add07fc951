using MassTransit;

namespace Treecast.Persistence.Tests.Support;

public sealed class CounterStateMachine : MassTransitStateMachine<CounterSaga>
{
    public CounterStateMachine()
    {
        InstanceState(x => x.CurrentState);
        Event(() => Started, e => e.CorrelateById(m => m.Message.CounterId));
        Event(() => Incremented, e => e.CorrelateById(m => m.Message.CounterId));
        Event(() => Stopped, e => e.CorrelateById(m => m.Message.CounterId));

        Initially(
            When(Started)
                .Then(c =>
                {
                    c.Saga.Label = c.Message.Label;
                    c.Saga.StartedAt = c.Message.At;
                })
                .TransitionTo(Counting));

        During(Counting,
            Ignore(Started),
            When(Incremented).Then(c => c.Saga.Count++),
            When(Stopped).Finalize());

        SetCompletedWhenFinalized();
    }

    public State Counting { get; private set; } = null!;

    public Event<CounterStarted> Started { get; private set; } = null!;

    public Event<CounterIncremented> Incremented { get; private set; } = null!;

    public Event<CounterStopped> Stopped { get; private set; } = null!;
}
