namespace Treecast.Scheduler.Timers;

/// <summary>A timer that has been scheduled and has neither fired nor been cancelled.</summary>
public sealed record PendingTimer(Guid TimerId, Guid CorrelationId, string Purpose, DateTimeOffset FireAt);
