namespace Treecast.Bench.Saga;

/// <summary>One embedded broadcast: its store, how it ended, and the operation's own time (requested → finished).</summary>
/// <param name="OperationMs">From the summary's <c>elapsedMs</c>: the operation's requested and finished timestamps.</param>
/// <param name="ProcessSeconds">Wall time of the whole process, start-up included.</param>
/// <param name="CpuSeconds">
/// The process's CPU seconds from the event to the outcome: what the store costs the services (not the database server),
/// readable when other work on the machine makes the wall time noisy.
/// </param>
public sealed record SagaRun(
    string Store,
    int ExitCode,
    string State,
    long OperationMs,
    int FaultedMessages,
    bool Verified,
    double? TransferMiBPerSecond,
    double ProcessSeconds,
    double? CpuSeconds);
