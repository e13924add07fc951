using Treecast.Contracts;

namespace Treecast.Integration.Tests.Broker;

/// <summary>Commands an attacker would like an agent to carry out, by name.</summary>
public static class AgentCommands
{
    /// <summary>Every command an agent takes.</summary>
    public static readonly string[] All =
    [
        nameof(PauseVms), nameof(ResumeVms), nameof(StartWorkload), nameof(AnnouncePendingTransfer), nameof(StartTransfer),
        nameof(CancelTransfer), nameof(QueryWorkload),
    ];

    /// <summary>A fresh <paramref name="command"/> (a name in <see cref="All"/>) to <paramref name="vmmId"/>; a new operation, watch or workload each time.</summary>
    public static object Named(string command, string vmmId)
    {
        var id = Guid.NewGuid();
        return command switch
        {
            nameof(PauseVms) => new PauseVms(id, vmmId),
            nameof(ResumeVms) => new ResumeVms(id, vmmId, IsRoot: true),
            nameof(StartWorkload) => new StartWorkload($"job-{id:N}", vmmId, TimeSpan.FromSeconds(10)),
            nameof(AnnouncePendingTransfer) => new AnnouncePendingTransfer(
                id, vmmId, new VmmTree(1, vmmId, 2, [new TreeNode(vmmId, null, "site-1/pod-1/rack-1", "http://127.0.0.1:1")]), [], 1024 * 1024, BroadcastMode.Broadcast),
            nameof(StartTransfer) => new StartTransfer(id, vmmId),
            nameof(CancelTransfer) => new CancelTransfer(id, vmmId),
            nameof(QueryWorkload) => new QueryWorkload(id, $"job-{id:N}", vmmId),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command, "not an agent command"),
        };
    }

    /// <summary>The operation, watch or workload a command of <see cref="Named"/> is about, to look for its effects.</summary>
    public static string Subject(object command) => command switch
    {
        PauseVms c => c.OperationId.ToString(),
        ResumeVms c => c.OperationId.ToString(),
        StartWorkload c => c.WorkloadId,
        AnnouncePendingTransfer c => c.OperationId.ToString(),
        StartTransfer c => c.OperationId.ToString(),
        CancelTransfer c => c.OperationId.ToString(),
        QueryWorkload c => c.WatchId.ToString(),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command, "not an agent command"),
    };
}
