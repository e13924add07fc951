using RabbitMQ.Client.Events;
using Treecast.Contracts;
using static Treecast.Integration.Tests.Broker.AgentsOnTheirOwnAccounts;

namespace Treecast.Integration.Tests.Broker;

/// <summary>The one account agents obey: a command from the policy service's account, with its user_id, is carried out.</summary>
[Collection(BrokerAttacks.Name)]
public sealed class When_the_policy_account_commands_an_agent(AgentsOnTheirOwnAccounts fleet)
{
    private static readonly TimeSpan Generous = TimeSpan.FromMinutes(1);

    [SkippableFact]
    public async Task Should_answer_a_workload_query()
    {
        fleet.Require();
        var query = new QueryWorkload(Guid.NewGuid(), "job-unknown", Target);

        Assert.Null(await PublishAsPolicyAsync(query));

        var answer = await fleet.Observer.WaitFor<WorkloadStatusReported>(r => r.WatchId == query.WatchId, Generous);
        Assert.Equal(Target, answer.VmmId);
    }

    [SkippableFact]
    public async Task Should_pause_the_vms()
    {
        fleet.Require();
        var pause = new PauseVms(Guid.NewGuid(), Target);

        Assert.Null(await PublishAsPolicyAsync(pause));

        var paused = await fleet.Observer.WaitFor<VmsPaused>(p => p.OperationId == pause.OperationId, Generous);
        Assert.Equal(2, paused.Vms.Count);
    }

    private Task<ShutdownEventArgs?> PublishAsPolicyAsync(object command) =>
        BrokerClient.PublishAsync(
            fleet.Accounts.PolicyUri, Addresses.AgentQueue(Target), command, Guid.NewGuid().ToString(), fleet.Accounts.CommandSender);
}
