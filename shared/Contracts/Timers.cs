namespace Treecast.Contracts;

// The scheduler service owns time: sagas never sleep, they schedule a timer and react to TimerFired.

/// <summary>Fire <see cref="TimerFired"/> at <see cref="FireAt"/> (at once if that has passed).</summary>
public sealed record ScheduleTimer(Guid TimerId, Guid CorrelationId, string Purpose, DateTimeOffset FireAt);

public sealed record CancelTimer(Guid TimerId);

public sealed record TimerFired(Guid TimerId, Guid CorrelationId, string Purpose, DateTimeOffset ScheduledFor, DateTimeOffset FiredAt);
