using System.Net.Http.Json;
using System.Text.Json;
using MongoDB.Bson;
using MongoDB.Driver;
using Treecast.Contracts;
using Treecast.Integration.Tests.Processes;
using Treecast.TestSupport.Processes;

namespace Treecast.Integration.Tests;

/// <summary>
/// A broadcast survives the policy service going down in the middle of it: the saga's state is in MongoDB, the
/// agents' events wait in RabbitMQ, and the restarted service picks the operation up where it was.
/// Skipped, with the reason, unless both RabbitMQ and MongoDB are reachable.
/// </summary>
public sealed class When_the_policy_service_restarts_during_a_transfer(PolicyRestartFleet fleet) : IClassFixture<PolicyRestartFleet>
{
    private static readonly TimeSpan Downtime = TimeSpan.FromSeconds(5);

    [SkippableFact]
    public async Task Should_complete_the_operation_with_the_gap_in_its_history()
    {
        fleet.Require();

        await fleet.PublishExternalJsonAsync($$"""
            {"type":"host.degraded","eventId":"{{Guid.NewGuid()}}","vmm":"{{PolicyRestartFleet.Root}}","severity":"critical"}
            """);
        var requested = await fleet.NextAsync<BroadcastRequested>(r => r.RootVmmId == PolicyRestartFleet.Root, TimeSpan.FromMinutes(1));
        var operationId = requested.OperationId;

        // Bytes are moving between agents: the saga is in Transferring. Down goes the policy service.
        await fleet.NextAsync<TransferProgressed>(p => p.OperationId == operationId, TimeSpan.FromMinutes(2));
        await fleet.StopPolicyAsync();
        var stoppedAt = DateTimeOffset.UtcNow;

        // The transfer goes on without it (agent to agent); what the agents report waits in the saga's queue.
        foreach (var receiver in PolicyRestartFleet.Agents.Skip(1))
        {
            await fleet.NextAsync<VmsReceived>(r => r.OperationId == operationId && r.VmmId == receiver, TimeSpan.FromMinutes(2));
        }

        Assert.DoesNotContain(fleet.Seen<BroadcastOperationFinished>(), f => f.OperationId == operationId);
        var remaining = Downtime - (DateTimeOffset.UtcNow - stoppedAt);
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining);
        }

        var restartedAt = DateTimeOffset.UtcNow;
        fleet.StartPolicy();
        var finished = await fleet.NextAsync<BroadcastOperationFinished>(f => f.OperationId == operationId, TimeSpan.FromMinutes(2));

        Assert.True(finished.State == OperationFinalState.Completed, $"{finished.State}: {finished.FailureReason}\n{fleet.Logs()}");
        Assert.Equal(PolicyRestartFleet.Agents.Order(), finished.Hosts.Select(h => h.VmmId).Order());
        Assert.All(finished.Hosts, host => Assert.Equal(finished.Vms.Select(v => v.Sha256).Order(), host.Vms.Select(v => v.Sha256).Order()));

        // The saga document, as an operator reads it in mongosh: the history spans the outage.
        var document = await fleet.Database.GetCollection<BsonDocument>("broadcast_operations")
            .Find(new BsonDocument("_id", new BsonBinaryData(operationId, GuidRepresentation.Standard)))
            .SingleAsync();
        Assert.Equal("Completed", document["CurrentState"].AsString);
        var history = document["History"].AsBsonArray
            .Select(h => (State: h["State"].AsString, At: h["At"]["DateTime"].ToUniversalTime()))
            .ToList();
        Assert.Equal(["ResolvingTree", "Pausing", "Announcing", "Transferring", "Completed"], history.Select(h => h.State));
        var gap = history.Zip(history.Skip(1), (before, after) => (before, after))
            .Single(pair => pair.after.State == "Completed");
        Assert.True(gap.before.At <= stoppedAt.UtcDateTime, $"Transferring was recorded at {gap.before.At:O}, after the stop at {stoppedAt:O}");
        Assert.True(gap.after.At >= restartedAt.UtcDateTime.AddSeconds(-1), $"Completed was recorded at {gap.after.At:O}, before the restart at {restartedAt:O}");
        Assert.True(gap.after.At - gap.before.At >= Downtime, $"the history shows no gap of {Downtime}: {string.Join(", ", history)}");

        // And the restarted service's HTTP read-out says the same.
        var address = fleet.Policy?.ListeningAddress();
        Assert.NotNull(address);
        using var http = new HttpClient { BaseAddress = address };
        var operation = await http.GetFromJsonAsync<JsonElement>($"/operations/{operationId}");
        Assert.Equal("Completed", operation.GetProperty("currentState").GetString());
        Assert.Equal(5, operation.GetProperty("history").GetArrayLength());
    }
}
