using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using Treecast.Persistence.Bson;
using Treecast.Scheduler.Timers;

namespace Treecast.Scheduler.Tests.Stores;

/// <summary>A stored timer survives the driver's serializers unchanged and reads as operators expect. No server needed.</summary>
public sealed class SchedulerDocumentMappingSpecs
{
    private static readonly PendingTimer Timer = new(
        Guid.Parse("0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3"),
        Guid.Parse("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"),
        "broadcast:Transferring",
        new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.FromHours(1)).AddTicks(1_234_567));

    public SchedulerDocumentMappingSpecs() => TreecastBsonConventions.Register();

    [Fact]
    public void A_timer_round_trips_unchanged()
    {
        var back = BsonSerializer.Deserialize<StoredTimer>(StoredTimer.From(Timer).ToBsonDocument()).ToPendingTimer();

        Assert.Equal(Timer, back);
        Assert.Equal(Timer.FireAt.Offset, back.FireAt.Offset);
        Assert.Equal(Timer.FireAt.Ticks, back.FireAt.Ticks);
    }

    [Fact]
    public void Ids_are_standard_uuids_and_the_fire_time_a_utc_date()
    {
        var document = StoredTimer.From(Timer).ToBsonDocument();

        Assert.Equal(BsonBinarySubType.UuidStandard, document["_id"].AsBsonBinaryData.SubType);
        Assert.Equal(Timer.TimerId, document["_id"].AsBsonBinaryData.ToGuid(GuidRepresentation.Standard));
        Assert.Equal(Timer.CorrelationId, document["CorrelationId"].AsBsonBinaryData.ToGuid(GuidRepresentation.Standard));
        Assert.Equal(new DateTime(2026, 11, 25, 9, 0, 0, 123, DateTimeKind.Utc), document["FireAt"]["DateTime"].ToUniversalTime());
        Assert.Equal(Timer.FireAt.UtcTicks, document["FireAtUtcTicks"].AsInt64);
    }
}
