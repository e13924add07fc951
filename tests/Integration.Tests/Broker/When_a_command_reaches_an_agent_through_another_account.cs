using System.Text;
using Treecast.Contracts;
using Treecast.Hosting.Sender;
using Treecast.TestSupport;
using static Treecast.Integration.Tests.Broker.AgentsOnTheirOwnAccounts;

namespace Treecast.Integration.Tests.Broker;

/// <summary>
/// An agent's own account can always write to its own exchange, another agent's too (it delivers announcements there), and
/// an administrator to any: the broker lets such a command through, and the agent refuses it, because its AMQP user_id (which the broker checked) does not name the
/// policy service's account. Refused means never carried out, moved to the agent's _error queue, logged once.
/// </summary>
[Collection(BrokerAttacks.Name)]
public sealed class When_a_command_reaches_an_agent_through_another_account(AgentsOnTheirOwnAccounts fleet)
{
    private static readonly TimeSpan Generous = TimeSpan.FromMinutes(1);

    public static TheoryData<string> Commands() => [.. AgentCommands.All];

    [SkippableTheory]
    [MemberData(nameof(Commands))]
    public async Task Should_not_carry_out_a_command_the_agent_sent_itself(string command)
    {
        fleet.Require();
        var own = fleet.Accounts.UserPrefix + BrokerAccounts.AgentUser(Target);

        var moved = await RefusedAsync(fleet.Accounts.AgentUri(Target), command, userId: own);

        // Moved by the same account that sent it: the copy keeps its user_id.
        Assert.Equal(own, moved.BasicProperties.UserId);
    }

    [SkippableTheory]
    [MemberData(nameof(Commands))]
    public async Task Should_not_carry_out_a_command_another_agent_sent(string command)
    {
        fleet.Require();
        var neighbour = fleet.Accounts.UserPrefix + BrokerAccounts.AgentUser(Neighbour);

        // The broker lets it through (agents write each other's exchanges to deliver announcements); the agent does not.
        var moved = await RefusedAsync(fleet.Accounts.AgentUri(Neighbour), command, userId: neighbour);

        Assert.False(moved.BasicProperties.IsUserIdPresent());
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Should_not_carry_out_a_command_from_an_administrator(bool stampsUserId)
    {
        fleet.Require();
        var admin = Uri.UnescapeDataString(fleet.Admin.UserInfo.Split(':')[0]);

        var moved = await RefusedAsync(fleet.Admin, nameof(PauseVms), stampsUserId ? admin : null);

        // The agent's account could not publish the copy under another user's id: it moved it without one, saying whose it was.
        Assert.False(moved.BasicProperties.IsUserIdPresent());
        if (stampsUserId)
        {
            var original = moved.BasicProperties.Headers?[MoveWithoutForeignUserIdFilter.OriginalUserIdHeader];
            Assert.Equal(admin, original is byte[] bytes ? Encoding.UTF8.GetString(bytes) : original as string);
        }
    }

    [SkippableFact]
    public async Task Should_not_carry_out_a_command_without_a_user_id_from_its_own_account()
    {
        fleet.Require();

        var moved = await RefusedAsync(fleet.Accounts.AgentUri(Target), nameof(StartWorkload), userId: null);

        Assert.False(moved.BasicProperties.IsUserIdPresent());
    }

    /// <summary>Publishes the command as <paramref name="account"/>, waits for it in the _error queue and checks nothing came of it.</summary>
    private async Task<RabbitMQ.Client.BasicGetResult> RefusedAsync(Uri account, string command, string? userId)
    {
        var message = AgentCommands.Named(command, Target);
        var messageId = Guid.NewGuid().ToString();

        Assert.Null(await BrokerClient.PublishAsync(account, Addresses.AgentQueue(Target), message, messageId, userId));
        var moved = await fleet.MovedToErrorAsync(Target, messageId, Generous);

        var reason = Encoding.UTF8.GetString((byte[])moved.BasicProperties.Headers!["MT-Fault-Message"]!);
        Assert.Contains("Agent:CommandSender", reason, StringComparison.Ordinal);
        Assert.Contains(userId is null ? "user_id is missing" : $"user_id is '{userId}'", reason, StringComparison.Ordinal);
        var subject = AgentCommands.Subject(message);
        Assert.DoesNotContain(fleet.Observer.Seen<object>(), seen => seen.ToString()!.Contains(subject, StringComparison.Ordinal));
        // The agent logs the refusal after moving the message: wait for the line, not just for the move.
        var logged = Assert.Single(await fleet.AgentLinesWithAsync(Target, messageId, Generous));
        Assert.Contains(command, logged, StringComparison.Ordinal);
        Assert.Contains(fleet.Accounts.CommandSender, logged, StringComparison.Ordinal);
        return moved;
    }
}
