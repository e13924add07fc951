using Treecast.Agent.Tests.Support;
using Treecast.Contracts;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>A child that never answers: its parent keeps trying for the grace period, then reports the relay to it failed.</summary>
public sealed class When_a_child_stays_unreachable
{
    [Fact]
    public async Task Should_report_the_relay_to_it_failed_after_the_grace_period()
    {
        await using var cluster = new TransferCluster();
        var root = await cluster.AddAsync("root", null, [("root-vm-0", 100_000)], tune: s => s with { ChildGracePeriod = TimeSpan.FromSeconds(2) });
        await cluster.AddAsync("child", "root");
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId);
        await cluster.StopAsync("child");

        Assert.True(root.Engine.StartTransfer(operationId));

        var failed = await cluster.Events.WaitForAsync<OperationStepFailed>(f => f.OperationId == operationId, TimeSpan.FromMinutes(1));
        Assert.Equal("child", failed.VmmId);
        Assert.Equal(OperationStep.Relay, failed.Step);
        Assert.Contains("unreachable for", failed.Reason, StringComparison.Ordinal);
        Assert.Contains("grace period 2 s", failed.Reason, StringComparison.Ordinal);
    }
}

public sealed class When_a_child_never_answers_a_push
{
    [Fact]
    public async Task Should_report_the_relay_to_it_failed_after_the_grace_period_instead_of_waiting_forever()
    {
        await using var cluster = new TransferCluster();
        var root = await cluster.AddAsync("root", null, [("root-vm-0", 100_000)], tune: s => s with { ChildGracePeriod = TimeSpan.FromSeconds(2) });
        await cluster.AddAsync("child", "root", configureGrpc: o => o.Interceptors.Add<NeverAnswerInterceptor>());
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId);

        Assert.True(root.Engine.StartTransfer(operationId));

        var failed = await cluster.Events.WaitForAsync<OperationStepFailed>(f => f.OperationId == operationId, TimeSpan.FromMinutes(1));
        Assert.Equal("child", failed.VmmId);
        Assert.Equal(OperationStep.Relay, failed.Step);
        Assert.Contains("unreachable for", failed.Reason, StringComparison.Ordinal);
    }
}
