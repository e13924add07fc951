using MongoDB.Bson.Serialization.Attributes;

namespace Treecast.Policy.Workloads;

/// <summary>A document of the <c>workloads</c> collection: one per workload, keyed by its id.</summary>
public sealed class WorkloadRecord
{
    [BsonId]
    public string WorkloadId { get; set; } = string.Empty;

    /// <summary>The VMM that reported the earliest completion.</summary>
    public string VmmId { get; set; } = string.Empty;

    public DateTimeOffset CompletedAt { get; set; }

    /// <summary><see cref="CompletedAt"/> as UTC ticks: the exact instant the server compares to keep the earliest.</summary>
    public long CompletedAtUtcTicks { get; set; }

    public static WorkloadRecord From(WorkloadCompletion completion)
    {
        ArgumentNullException.ThrowIfNull(completion);
        return new WorkloadRecord
        {
            WorkloadId = completion.WorkloadId,
            VmmId = completion.VmmId,
            CompletedAt = completion.CompletedAt,
            CompletedAtUtcTicks = completion.CompletedAt.UtcTicks,
        };
    }

    public WorkloadCompletion ToCompletion() => new(WorkloadId, VmmId, CompletedAt);
}
