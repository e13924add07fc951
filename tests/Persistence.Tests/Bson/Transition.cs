namespace Treecast.Persistence.Tests.Bson;

public sealed record Transition(string State, DateTimeOffset At, string Note);
