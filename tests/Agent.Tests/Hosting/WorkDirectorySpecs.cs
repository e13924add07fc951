using Microsoft.Extensions.Logging.Abstractions;
using Treecast.Agent.Hosting;
using Treecast.Agent.Tests.Support;

namespace Treecast.Agent.Tests.Hosting;

/// <summary>Two agents of one VMM id on one machine would write over each other's receives: the second refuses to start.</summary>
public sealed class When_a_second_agent_starts_on_the_same_work_directory
{
    [Fact]
    public async Task Should_refuse_the_second_node_naming_the_directory_and_the_setting()
    {
        await using var cluster = new TransferCluster();
        await cluster.AddAsync("vmm-a", null);
        var factory = new AgentNodeFactory(new FileVmmFactory(null), TimeProvider.System, NullLoggerFactory.Instance);
        var directory = Path.Combine(cluster.WorkDirectory, "vmm-a");

        var refusal = await Assert.ThrowsAsync<WorkDirectoryInUseException>(() =>
            factory.StartAsync(new AgentOptions { VmmId = "vmm-a", Tls = { Credentials = cluster.Certificates.For("vmm-a") } }, directory, cluster.Events));

        Assert.Contains(directory, refusal.Message, StringComparison.Ordinal);
        Assert.Contains("Agent:WorkDirectory", refusal.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refusal.Message);
    }

    [Fact]
    public async Task Should_stop_a_second_host_of_the_same_agent_with_that_line()
    {
        await using var first = await AgentCluster.StartAsync("vmm-a");
        var options = new AgentOptions
        {
            VmmId = "vmm-a",
            WorkDirectory = first.Agents["vmm-a"].WorkDirectory,
            HeartbeatInterval = TimeSpan.FromMilliseconds(200),
        };

        try
        {
            var refusal = await Assert.ThrowsAsync<WorkDirectoryInUseException>(() => AgentCluster.StartAsync([options]));
            Assert.Contains("Agent:WorkDirectory", refusal.Message, StringComparison.Ordinal);
        }
        finally
        {
            // The refused host set the process's exit code, as a service must; this process is the test runner.
            Environment.ExitCode = 0;
        }

        Assert.True(first.Agents["vmm-a"].Ready.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Should_advertise_the_advertised_port_instead_of_the_bound_one()
    {
        var options = new AgentOptions { VmmId = "vmm-a", AdvertisedPort = 45678, HeartbeatInterval = TimeSpan.FromMilliseconds(200) };
        await using var cluster = await AgentCluster.StartAsync([options]);

        var heartbeat = await cluster.Events.WaitForAsync<Contracts.VmmHeartbeat>(h => h.VmmId == "vmm-a");

        Assert.Equal("https://127.0.0.1:45678", heartbeat.GrpcEndpoint);
        Assert.NotEqual(45678, cluster.Agents["vmm-a"].Node.Server.Port);
    }
}
