using Treecast.Hosting;

namespace Treecast.Scheduler.Timers;

/// <summary>A timer request that can never be scheduled as sent; retrying it cannot help.</summary>
public sealed class InvalidTimerException(string message) : InvalidMessageException(message);
