namespace Treecast.Contracts;

/// <summary>Queue and exchange names every service agrees on.</summary>
public static class Addresses
{
    /// <summary>Fanout exchange where external monitoring publishes plain JSON events.</summary>
    public const string ExternalEventsExchange = "treecast.external-events";

    /// <summary>The policy service's queue bound to <see cref="ExternalEventsExchange"/>.</summary>
    public const string PolicyExternalEventsQueue = "policy-external-events";

    public const string TopologyQueue = "topology";

    /// <summary>The broadcast operation saga's queue (the policy service); <see cref="CancelOperation"/> is sent here.</summary>
    public const string BroadcastOperationsQueue = "broadcast-operation-state";

    /// <summary>The deadline watch saga's queue (the policy service).</summary>
    public const string DeadlineWatchesQueue = "deadline-watch-state";
    public const string SchedulerQueue = "scheduler";

    public static string AgentQueue(string vmmId) => $"agent-{vmmId}";

    public static Uri Topology { get; } = new($"queue:{TopologyQueue}");
    public static Uri Scheduler { get; } = new($"queue:{SchedulerQueue}");
    public static Uri BroadcastOperations { get; } = new($"queue:{BroadcastOperationsQueue}");

    /// <summary>
    /// Where commands to one agent are sent: the exchange its queue is bound to, not the queue. A sender to a
    /// <c>queue:</c> address declares the queue with its own arguments, and the agent declares it with an expiry
    /// (<c>Agent:QueueExpiresAfter</c>); RabbitMQ refuses the second declaration, so only the agent declares it.
    /// </summary>
    public static Uri Agent(string vmmId) => new($"exchange:{AgentQueue(vmmId)}");
}
