using System.CommandLine;
using System.Text.Json;
using Treecast.Agent.Tests.Support;
using Treecast.Contracts;

namespace Treecast.Bench.Loopback;

/// <summary>
/// <c>relay-agent</c> (started by <see cref="RelayMemoryCommand"/>, not by hand): one agent named <c>relay</c> on a
/// loopback gRPC server in cleartext. It prints its endpoint, expects the announcement it reads from standard input
/// (one JSON line) and says so, and stops at <c>exit</c> or when its input closes.
/// </summary>
public static class RelayAgentCommand
{
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);

    public static Command Build()
    {
        var work = new Option<string>("--work") { Description = "The folder for the agent's work directory.", Required = true };
        var command = new Command("relay-agent", "(used by relay-memory) one relay agent in this process, driven through standard input.")
        {
            work,
        };
        command.Hidden = true;
        command.SetAction(async (result, cancellationToken) =>
        {
            await using var agent = await TestAgent.StartAsync("relay", result.GetValue(work)!, new RecordingEventSink(), credentials: null);
            Console.WriteLine(agent.Endpoint);
            while (await Console.In.ReadLineAsync(cancellationToken) is { } line && line != "exit")
            {
                agent.Engine.Expect(JsonSerializer.Deserialize<PendingTransferAnnounced>(line, Json)!);
                Console.WriteLine("expecting");
            }

            return 0;
        });
        return command;
    }
}
