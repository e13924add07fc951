namespace Treecast.Persistence.Tests.Support;

public sealed record CounterStarted(Guid CounterId, string Label, DateTimeOffset At);

public sealed record CounterIncremented(Guid CounterId);

public sealed record CounterStopped(Guid CounterId);
