namespace Treecast.Bench.Saga;

/// <summary>The runs with one saga store, summarized.</summary>
public sealed record SagaStoreSummary(
    string Store,
    int Runs,
    double MedianOperationMs,
    long MinOperationMs,
    long MaxOperationMs,
    double? MedianCpuSeconds,
    int FaultedMessages,
    bool AllVerified);
