namespace Treecast.Policy.Sagas;

/// <summary>One entry of a saga's history, kept so operators can see how it got where it is.</summary>
public sealed record StateTransition(string State, DateTimeOffset At, string Note);
