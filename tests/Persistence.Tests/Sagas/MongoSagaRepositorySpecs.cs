using MassTransit;
using MassTransit.Saga;
using MongoDB.Bson;
using MongoDB.Driver;
using Treecast.Persistence.Sagas;
using Treecast.Persistence.Tests.Support;
using Treecast.TestSupport;

namespace Treecast.Persistence.Tests.Sagas;

/// <summary>
/// The repository contract against MongoDB, plus what only an optimistic store does: versions, conflicts,
/// indexes, and documents as operators see them. Skipped, with the reason, where no MongoDB server is reachable.
/// </summary>
public sealed class MongoSagaRepositorySpecs(MongoDbServer server) : SagaRepositoryContract, IClassFixture<MongoDbServer>
{
    private const string Collection = "counters";

    protected override void RequireStore() => server.Require();

    protected override void UseRepository(ISagaRegistrationConfigurator<CounterSaga> saga) =>
        saga.MongoRepository(server.Require(), Collection, r => r
            .Index(k => k.Ascending(x => x.Label))
            .Index(k => k.Descending("StartedAt.DateTime"), "started_at"));

    [SkippableFact]
    public async Task Every_update_raises_the_version()
    {
        await StartAsync();
        var id = NewId.NextGuid();
        await InRepository(async repository => await repository.Insert(Counter(id, "blue", count: 0)));

        for (var i = 0; i < 3; i++)
        {
            await InRepository(async repository =>
            {
                var loaded = await repository.Load(id);
                Assert.NotNull(loaded);
                loaded.Saga.Count++;
                await repository.Update(loaded);
            });
        }

        var stored = await LoadAsync(id);
        Assert.Equal(3, stored?.Version);
        Assert.Equal(3, stored?.Count);
    }

    [SkippableFact]
    public async Task An_update_of_a_stale_copy_raises_a_concurrency_conflict_and_changes_nothing()
    {
        await StartAsync();
        var id = NewId.NextGuid();
        await InRepository(async repository => await repository.Insert(Counter(id, "blue", count: 0)));

        await InRepository(async repository =>
        {
            var first = await repository.Load(id);
            var second = await repository.Load(id);
            Assert.NotNull(first);
            Assert.NotNull(second);

            first.Saga.Count = 1;
            await repository.Update(first);

            second.Saga.Count = 2;
            var conflict = await Assert.ThrowsAsync<ConcurrencyException>(() => repository.Update(second));
            Assert.Equal(id, conflict.CorrelationId);
        });

        var stored = await LoadAsync(id);
        Assert.Equal(1, stored?.Count);
        Assert.Equal(1, stored?.Version);
    }

    [SkippableFact]
    public async Task A_delete_of_a_stale_copy_raises_a_concurrency_conflict_and_keeps_the_saga()
    {
        await StartAsync();
        var id = NewId.NextGuid();
        await InRepository(async repository => await repository.Insert(Counter(id, "blue", count: 0)));

        await InRepository(async repository =>
        {
            var first = await repository.Load(id);
            var stale = await repository.Load(id);
            Assert.NotNull(first);
            Assert.NotNull(stale);
            await repository.Update(first);

            await Assert.ThrowsAsync<ConcurrencyException>(() => repository.Delete(stale));
        });

        Assert.NotNull(await LoadAsync(id));
    }

    [SkippableFact]
    public async Task The_collection_has_the_state_index_and_the_declared_ones()
    {
        await StartAsync();
        await InRepository(async repository => Assert.Null(await repository.Load(NewId.NextGuid())));

        var indexes = await (await server.Require().GetCollection<BsonDocument>(Collection).Indexes.ListAsync()).ToListAsync();
        var keys = indexes.Select(i => i["key"].AsBsonDocument).ToList();

        Assert.Contains(new BsonDocument("CurrentState", 1), keys);
        Assert.Contains(new BsonDocument("Label", 1), keys);
        Assert.Contains(new BsonDocument("StartedAt.DateTime", -1), keys);
    }

    [SkippableFact]
    public async Task A_stored_saga_reads_as_operators_expect()
    {
        await StartAsync();
        var id = NewId.NextGuid();
        await Harness.Bus.Publish(new CounterStarted(id, "readable", new DateTimeOffset(2026, 11, 25, 9, 0, 0, TimeSpan.Zero)));
        Assert.NotNull(await Counters.Exists(id, machine => machine.Counting));

        var document = await server.Require().GetCollection<BsonDocument>(Collection)
            .Find(new BsonDocument("_id", new BsonBinaryData(id, GuidRepresentation.Standard)))
            .SingleAsync();

        Assert.Equal("Counting", document["CurrentState"].AsString);
        Assert.Equal(new DateTime(2026, 11, 25, 9, 0, 0, DateTimeKind.Utc), document["StartedAt"]["DateTime"].ToUniversalTime());
    }

    [SkippableFact]
    public async Task The_repository_built_by_hand_finds_what_the_bus_stored()
    {
        await StartAsync();
        var id = NewId.NextGuid();
        await Harness.Bus.Publish(new CounterStarted(id, "by-hand", DateTimeOffset.UtcNow));
        Assert.NotNull(await Counters.Exists(id, machine => machine.Counting));

        var repository = MongoSagaRepository<CounterSaga>.Create(server.Require().GetCollection<CounterSaga>(Collection));

        var loaded = await ((ILoadSagaRepository<CounterSaga>)repository).Load(id);
        Assert.Equal("by-hand", loaded?.Label);
        var found = await ((IQuerySagaRepository<CounterSaga>)repository).Find(new SagaQuery<CounterSaga>(x => x.Label == "by-hand"));
        Assert.Contains(id, found);
    }
}
