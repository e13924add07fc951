using System.Text.RegularExpressions;
using Treecast.TestSupport;

namespace Treecast.Integration.Tests.Broker;

/// <summary>
/// The permission table of <c>infra/rabbitmq/setup-users.sh --print</c>, read without a broker: what holds for every
/// agent id, including ids that are prefixes of one another (RabbitMQ's patterns and .NET's agree on what is used here:
/// anchors, groups, alternatives, classes).
/// </summary>
public sealed class When_the_permissions_are_printed
{
    private static readonly string[] Agents = ["host-1", "host-10", "rack.a-1"];

    private static readonly Lazy<Task<IReadOnlyList<Permission>>> Table = new(ReadAsync);

    [Fact]
    public async Task Should_anchor_every_pattern()
    {
        foreach (var row in await Table.Value)
        {
            Assert.All(new[] { row.Configure, row.Write, row.Read }, pattern => Assert.Matches("^\\^.*\\$$", pattern));
        }
    }

    [Fact]
    public async Task Should_let_only_the_policy_and_agents_write_an_agents_exchange()
    {
        // The policy sends commands there, the root's agent announcements; the agent checks who sent them (user_id).
        foreach (var agent in Agents)
        {
            var writers = (await Table.Value).Where(row => Matches(row.Write, $"agent-{agent}")).Select(row => row.User);
            Assert.Equal(Agents.Select(BrokerAccounts.AgentUser).Append(BrokerAccounts.Policy).Order(), writers.Order());
        }
    }

    [Fact]
    public async Task Should_let_only_the_policy_and_the_agent_itself_write_its_error_and_skipped_queues()
    {
        foreach (var agent in Agents)
        {
            foreach (var name in new[] { $"agent-{agent}_error", $"agent-{agent}_skipped" })
            {
                var writers = (await Table.Value).Where(row => Matches(row.Write, name) || Matches(row.Configure, name)).Select(row => row.User);
                Assert.Equal(new[] { BrokerAccounts.Policy, BrokerAccounts.AgentUser(agent) }.Order(), writers.Order());
            }
        }
    }

    [Fact]
    public async Task Should_let_only_the_agent_itself_read_its_exchange_and_queue()
    {
        // Its announcements arrive there, with the transfer token: no other account may bind its exchange or read its queue.
        foreach (var agent in Agents)
        {
            var readers = (await Table.Value).Where(row => Matches(row.Read, $"agent-{agent}")).Select(row => row.User);
            Assert.Equal([BrokerAccounts.AgentUser(agent)], readers);
        }
    }

    [Fact]
    public async Task Should_let_no_one_read_the_announcements_type_nor_all_faults()
    {
        foreach (var row in await Table.Value)
        {
            var isAgent = row.User.StartsWith("treecast-agent-", StringComparison.Ordinal);
            Assert.False(Matches(row.Read, "Treecast.Contracts:PendingTransferAnnounced"), row.User);
            Assert.False(Matches(row.Write, "Treecast.Contracts:PendingTransferAnnounced"), row.User);

            // MassTransit binds a fault's exchange to MassTransit:Fault when an agent moves a refused announcement to _error.
            Assert.Equal(isAgent, Matches(row.Read, "MassTransit:Fault--Treecast.Contracts:PendingTransferAnnounced--"));
            Assert.False(Matches(row.Read, "MassTransit:Fault"), row.User);
        }
    }

    [Fact]
    public async Task Should_let_only_the_policy_write_the_command_types()
    {
        foreach (var command in AgentCommands.All)
        {
            var writers = (await Table.Value).Where(row => Matches(row.Write, $"Treecast.Contracts:{command}")).Select(row => row.User);
            Assert.Equal([BrokerAccounts.Policy], writers);
        }
    }

    [Fact]
    public async Task Should_let_no_one_write_the_default_exchange()
    {
        Assert.DoesNotContain(await Table.Value, row => Matches(row.Write, "amq.default"));
    }

    private static bool Matches(string pattern, string name) => Regex.IsMatch(name, pattern, RegexOptions.None, TimeSpan.FromSeconds(1));

    private static async Task<IReadOnlyList<Permission>> ReadAsync()
    {
        var (exitCode, output) = await BrokerAccounts.RunHereAsync(["--print", .. Agents.SelectMany(a => new[] { "--agent", a })], new Dictionary<string, string>());
        Assert.True(exitCode == 0, output);
        return output.Split('\n').Skip(1).Select(line => line.Split('\t')).Select(f => new Permission(f[0], f[1], f[2], f[3])).ToList();
    }

    private sealed record Permission(string User, string Configure, string Write, string Read);
}
