using Treecast.Integration.Tests.Processes;
using Treecast.TestSupport;

namespace Treecast.Integration.Tests;

/// <summary>
/// The embedded run with MongoDB as the saga store (what docker compose deploys): fifteen receivers report to one
/// operation document at once, and not one of their messages may be lost to a write conflict.
/// </summary>
public sealed class When_the_embedded_run_keeps_its_sagas_in_mongodb(MongoDbServer mongo) : IClassFixture<MongoDbServer>
{
    [SkippableFact]
    public async Task Should_complete_a_15_host_broadcast_with_no_faulted_message()
    {
        mongo.Require();
        var environment = new Dictionary<string, string>
        {
            ["Mongo__ConnectionString"] = mongo.ConnectionString!,
            ["Mongo__Database"] = mongo.DatabaseName,
        };

        var (exitCode, summary, output) = await StandaloneProcess.RunAsync(
            expectJson: true, environment, "--hosts", "15", "--racks", "3", "--vms", "2", "--image-mib", "16", "--json");

        var root = summary.RootElement;
        Assert.True(exitCode == 0, $"exit code {exitCode}\n{output}");
        Assert.Equal("Completed", root.GetProperty("state").GetString());
        Assert.Equal(0, root.GetProperty("faultedMessages").GetInt32());
        Assert.True(root.GetProperty("verified").GetBoolean());
        Assert.Equal(15, root.GetProperty("hosts").GetArrayLength());
    }
}
