using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;
using Treecast.Contracts;
using Treecast.Persistence.Bson;
using Treecast.Persistence.Sagas;

namespace Treecast.Persistence.Tests.Bson;

/// <summary>The queries the repository sends, rendered to BSON without a server.</summary>
public sealed class FilterRenderingSpecs
{
    private static readonly Guid Id = Guid.Parse("11111111-2222-4333-8444-555555555555");

    public FilterRenderingSpecs() => TreecastBsonConventions.Register();

    [Fact]
    public void An_update_matches_the_id_and_only_an_older_version()
    {
        var rendered = Render(MongoSagaFilters.ForUpdate<InspectedSaga>(Id, 5));

        Assert.Equal(
            new BsonDocument
            {
                { "_id", new BsonBinaryData(Id, GuidRepresentation.Standard) },
                { "Version", new BsonDocument("$lt", 5) },
            },
            rendered);
    }

    [Fact]
    public void A_delete_matches_the_id_and_no_newer_version()
    {
        var rendered = Render(MongoSagaFilters.ForDelete<InspectedSaga>(Id, 5));

        Assert.Equal(
            new BsonDocument
            {
                { "_id", new BsonBinaryData(Id, GuidRepresentation.Standard) },
                { "Version", new BsonDocument("$lte", 5) },
            },
            rendered);
    }

    [Fact]
    public void A_query_by_expression_uses_field_names_operators_see()
    {
        FilterDefinition<InspectedSaga> filter = new ExpressionFilterDefinition<InspectedSaga>(
            x => x.CurrentState == "Failed" && x.Mode == BroadcastMode.Duplicate && x.StepTimerId == Id);

        var rendered = Render(filter);

        Assert.Equal(
            new BsonDocument
            {
                { "CurrentState", "Failed" },
                { "Mode", "Duplicate" },
                { "StepTimerId", new BsonBinaryData(Id, GuidRepresentation.Standard) },
            },
            rendered);
    }

    private static BsonDocument Render<T>(FilterDefinition<T> filter) =>
        filter.Render(new RenderArgs<T>(BsonSerializer.LookupSerializer<T>(), BsonSerializer.SerializerRegistry));
}
