using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using Treecast.Contracts;
using Treecast.Persistence.Bson;

namespace Treecast.Persistence.Tests.Bson;

/// <summary>Saga documents survive the driver's serializers unchanged and read as operators expect. No server needed.</summary>
public sealed class BsonMappingSpecs
{
    private static readonly Guid OperationId = Guid.Parse("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b");
    private static readonly Guid TimerId = Guid.Parse("0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3");

    public BsonMappingSpecs() => TreecastBsonConventions.Register();

    [Fact]
    public void A_saga_round_trips_unchanged()
    {
        var saga = Saga();

        var back = BsonSerializer.Deserialize<InspectedSaga>(saga.ToBsonDocument());

        Assert.Equivalent(saga, back, strict: true);
        Assert.Equal(saga.RequestedAt.Offset, back.RequestedAt.Offset);
        Assert.Equal(saga.RequestedAt.Ticks, back.RequestedAt.Ticks);
        Assert.Equal(saga.History.Select(h => h.At.Offset), back.History.Select(h => h.At.Offset));
        Assert.Equal(saga.Tree!.Nodes, back.Tree!.Nodes);
        Assert.Equal(saga.Vms, back.Vms);
        Assert.Equal(saga.Hosts[1].Copies, back.Hosts[1].Copies);
        Assert.Null(back.NoTimerId);
        Assert.Null(back.FinishedAt);
    }

    [Fact]
    public void The_correlation_id_is_the_document_id_as_a_standard_uuid()
    {
        var document = Saga().ToBsonDocument();

        Assert.False(document.Contains(nameof(InspectedSaga.CorrelationId)));
        var id = document["_id"].AsBsonBinaryData;
        Assert.Equal(BsonBinarySubType.UuidStandard, id.SubType);
        Assert.Equal(OperationId, id.ToGuid(GuidRepresentation.Standard));
    }

    [Fact]
    public void A_nullable_guid_is_a_standard_uuid_or_null()
    {
        var document = Saga().ToBsonDocument();

        Assert.Equal(BsonBinarySubType.UuidStandard, document["StepTimerId"].AsBsonBinaryData.SubType);
        Assert.Equal(TimerId, document["StepTimerId"].AsBsonBinaryData.ToGuid(GuidRepresentation.Standard));
        Assert.Equal(BsonNull.Value, document["NoTimerId"]);
    }

    [Fact]
    public void Enums_are_stored_by_name()
    {
        var document = Saga().ToBsonDocument();

        Assert.Equal("Duplicate", document["Mode"].AsString);
        Assert.Equal("Paused", document["Hosts"][1]["Copies"][0]["State"].AsString);
    }

    [Fact]
    public void Dates_are_stored_as_utc_dates_with_the_exact_value_beside_them()
    {
        var document = Saga().ToBsonDocument();

        var requestedAt = document["RequestedAt"].AsBsonDocument;
        Assert.Equal(BsonType.DateTime, requestedAt["DateTime"].BsonType);

        // 10:00:00.1234567 at +01:00 is 09:00:00.123 UTC; BSON dates hold milliseconds.
        Assert.Equal(new DateTime(2026, 11, 25, 9, 0, 0, 123, DateTimeKind.Utc), requestedAt["DateTime"].ToUniversalTime());
        Assert.Equal(60, requestedAt["Offset"].AsInt32);
        Assert.Equal(BsonType.DateTime, document["History"][0]["At"]["DateTime"].BsonType);
    }

    [Fact]
    public void Per_vmm_progress_is_nested_as_documents()
    {
        var document = Saga().ToBsonDocument();

        var host = document["Hosts"][1].AsBsonDocument;
        Assert.Equal("vmm-b", host["VmmId"].AsString);
        Assert.Equal(4096L, host["BytesReceived"].AsInt64);
        Assert.True(host["Verified"].AsBoolean);
        Assert.Equal(2048L, document["BytesByVmm"]["vmm-b"].AsInt64);
    }

    [Fact]
    public void Unknown_fields_written_by_a_newer_version_are_ignored()
    {
        var document = Saga().ToBsonDocument();
        document["AddedLater"] = "something";

        var back = BsonSerializer.Deserialize<InspectedSaga>(document);

        Assert.Equal(OperationId, back.CorrelationId);
    }

    [Fact]
    public void Registering_twice_changes_nothing()
    {
        TreecastBsonConventions.Register();
        TreecastBsonConventions.Register();

        Assert.Equal(OperationId, BsonSerializer.Deserialize<InspectedSaga>(Saga().ToBsonDocument()).CorrelationId);
    }

    private static InspectedSaga Saga()
    {
        var requestedAt = new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.FromHours(1)).AddTicks(1_234_567);
        return new InspectedSaga
        {
            CorrelationId = OperationId,
            CurrentState = "Transferring",
            Version = 4,
            Mode = BroadcastMode.Duplicate,
            StepTimerId = TimerId,
            NoTimerId = null,
            RequestedAt = requestedAt,
            FinishedAt = null,
            Deadline = TimeSpan.FromMinutes(10),
            Tree = new VmmTree(3, "vmm-a", 2,
            [
                new TreeNode("vmm-a", null, "site/pod/rack-1", "http://a:5001"),
                new TreeNode("vmm-b", "vmm-a", "site/pod/rack-2", "http://b:5001"),
            ]),
            Vms = [new VmImage("vm-1", 4096, new string('a', 64))],
            Hosts =
            [
                new HostProgress { VmmId = "vmm-a", BytesReceived = 0, Verified = false },
                new HostProgress
                {
                    VmmId = "vmm-b",
                    BytesReceived = 4096,
                    Verified = true,
                    Copies = [new VmCopy("vm-1", new string('a', 64), VmState.Paused, "52:54:00:12:34:56")],
                },
            ],
            BytesByVmm = new Dictionary<string, long> { ["vmm-a"] = 0, ["vmm-b"] = 2048 },
            History =
            [
                new Transition("Requested", requestedAt, "policy deadline-guard"),
                new Transition("Transferring", requestedAt.AddSeconds(2).ToOffset(TimeSpan.Zero), "announced"),
            ],
        };
    }
}
