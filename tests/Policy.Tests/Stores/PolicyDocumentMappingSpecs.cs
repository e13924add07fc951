using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using Treecast.Contracts;
using Treecast.Persistence.Bson;
using Treecast.Policy.Policies;
using Treecast.Policy.Sagas;

namespace Treecast.Policy.Tests.Stores;

/// <summary>
/// Every document the policy service stores (both sagas, the policy file record) survives the driver's
/// serializers unchanged and reads as operators expect. No server needed.
/// </summary>
public sealed class PolicyDocumentMappingSpecs
{
    private static readonly Guid OperationId = Guid.Parse("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b");
    private static readonly Guid TimerId = Guid.Parse("0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3");
    private static readonly DateTimeOffset RequestedAt = new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.FromHours(1)).AddTicks(1_234_567);

    public PolicyDocumentMappingSpecs() => TreecastBsonConventions.Register();

    [Fact]
    public void A_broadcast_operation_round_trips_unchanged()
    {
        var operation = Operation();

        var back = BsonSerializer.Deserialize<BroadcastOperationState>(operation.ToBsonDocument());

        Assert.Equivalent(operation, back, strict: true);
        Assert.Equal(operation.Tree!.Nodes, back.Tree!.Nodes);
        Assert.Equal(operation.Vms, back.Vms);
        Assert.Equal(operation.Hosts[1].Copies, back.Hosts[1].Copies);
        Assert.Equal(operation.History, back.History);
        Assert.Equal(RequestedAt.Offset, back.RequestedAt.Offset);
        Assert.Equal(RequestedAt.Ticks, back.RequestedAt.Ticks);
        Assert.Equal(operation.FinishedAt, back.FinishedAt);
    }

    [Fact]
    public void A_broadcast_operation_reads_as_operators_expect()
    {
        var document = Operation().ToBsonDocument();

        Assert.Equal(BsonBinarySubType.UuidStandard, document["_id"].AsBsonBinaryData.SubType);
        Assert.Equal(OperationId, document["_id"].AsBsonBinaryData.ToGuid(GuidRepresentation.Standard));
        Assert.Equal(TimerId, document["StepTimerId"].AsBsonBinaryData.ToGuid(GuidRepresentation.Standard));
        Assert.Equal("Completed", document["CurrentState"].AsString);
        Assert.Equal("Duplicate", document["Mode"].AsString);
        Assert.Equal("vmm-0", document["RootVmmId"].AsString);
        Assert.Equal(3L, document["TreeVersion"].AsInt64);
        Assert.Equal("Paused", document["Hosts"][1]["Copies"][0]["State"].AsString);
        Assert.True(document["Hosts"][1]["Verified"].AsBoolean);
        Assert.Equal(4096L, document["Hosts"][1]["BytesReceived"].AsInt64);
        Assert.Equal(new DateTime(2026, 11, 25, 9, 0, 0, 123, DateTimeKind.Utc), document["RequestedAt"]["DateTime"].ToUniversalTime());
        Assert.Equal(BsonType.DateTime, document["History"][0]["At"]["DateTime"].BsonType);
        Assert.Equal("Transferring", document["History"][1]["State"].AsString);
        Assert.Equal("degraded-host", document["PolicyName"].AsString);
    }

    [Fact]
    public void A_deadline_watch_round_trips_unchanged()
    {
        var watch = new DeadlineWatchState
        {
            CorrelationId = Guid.NewGuid(),
            CurrentState = "Duplicating",
            Version = 2,
            WorkloadId = "wl-1",
            RootVmmId = "vmm-0",
            Deadline = TimeSpan.FromMinutes(10),
            FanOut = 2,
            ChunkSizeBytes = 65536,
            PolicyName = "deadline-safeguard",
            RequestedAt = RequestedAt,
            TimerId = null,
            CompletedAt = RequestedAt.AddMinutes(3),
            OperationId = OperationId,
            History = [new StateTransition("Watching", RequestedAt, "deadline 00:10:00")],
        };

        var document = watch.ToBsonDocument();
        var back = BsonSerializer.Deserialize<DeadlineWatchState>(document);

        Assert.Equivalent(watch, back, strict: true);
        Assert.Equal(watch.History, back.History);
        Assert.Equal(BsonNull.Value, document["TimerId"]);
        Assert.Equal(BsonBinarySubType.UuidStandard, document["OperationId"].AsBsonBinaryData.SubType);
        Assert.Equal(BsonType.DateTime, document["CompletedAt"]["DateTime"].BsonType);
        Assert.Equal(BsonBinarySubType.UuidStandard, document["_id"].AsBsonBinaryData.SubType);
    }

    [Fact]
    public void A_policy_file_record_round_trips_keyed_by_its_path()
    {
        var record = PolicyFileRecord.From(new PolicyFile("/policies/fleet.yaml", new string('a', 64), ["one", "two"]), RequestedAt);

        var document = record.ToBsonDocument();
        var back = BsonSerializer.Deserialize<PolicyFileRecord>(document);

        Assert.Equal("/policies/fleet.yaml", document["_id"].AsString);
        Assert.Equal(BsonType.DateTime, document["LoadedAt"]["DateTime"].BsonType);
        Assert.Equivalent(record, back, strict: true);
        Assert.Equal(RequestedAt.Offset, back.LoadedAt.Offset);
    }

    private static BroadcastOperationState Operation() => new()
    {
        CorrelationId = OperationId,
        CurrentState = "Completed",
        Version = 7,
        Mode = BroadcastMode.Duplicate,
        RootVmmId = "vmm-0",
        FanOut = 2,
        ChunkSizeBytes = 65536,
        PolicyName = "degraded-host",
        Reason = "host.degraded on vmm-0",
        RequestedAt = RequestedAt,
        Tree = new VmmTree(3, "vmm-0", 2,
        [
            new TreeNode("vmm-0", null, "site-a/pod-1/rack-1", "http://vmm-0:5100"),
            new TreeNode("vmm-1", "vmm-0", "site-a/pod-1/rack-2", "http://vmm-1:5100"),
        ]),
        TreeVersion = 3,
        Vms = [new VmImage("vm-a", 4096, new string('a', 64), new VmDefinition("qemu", 512, "q35", null))],
        Hosts =
        [
            new VmmProgress { VmmId = "vmm-0", Location = "site-a/pod-1/rack-1", Ready = true, Verified = true, BytesReceived = 4096, TotalBytes = 4096 },
            new VmmProgress
            {
                VmmId = "vmm-1",
                Location = "site-a/pod-1/rack-2",
                ParentVmmId = "vmm-0",
                Ready = true,
                BytesReceived = 4096,
                TotalBytes = 4096,
                Verified = true,
                Copies = [new VmCopy("vm-a", new string('a', 64), VmState.Paused, "52:54:00:12:34:56")],
            },
        ],
        StepTimerId = TimerId,
        FailureReason = null,
        History =
        [
            new StateTransition("ResolvingTree", RequestedAt, "policy degraded-host"),
            new StateTransition("Transferring", RequestedAt.AddSeconds(2).ToOffset(TimeSpan.Zero), "all ready"),
        ],
        FinishedAt = RequestedAt.AddSeconds(5),
    };
}
