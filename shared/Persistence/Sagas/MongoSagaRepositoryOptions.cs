using MassTransit;
using MongoDB.Driver;

namespace Treecast.Persistence.Sagas;

/// <summary>Where one saga type is stored, and the indexes its operators' queries need.</summary>
public sealed class MongoSagaRepositoryOptions<TSaga>
    where TSaga : class, ISagaVersion
{
    // The name MassTransit state machines conventionally give InstanceState; indexed when the saga has it.
    private const string CurrentStateField = "CurrentState";

    public MongoSagaRepositoryOptions(string collectionName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(collectionName);
        CollectionName = collectionName;
    }

    public string CollectionName { get; }

    /// <summary>
    /// Set by <c>MongoRepository(database, ...)</c>; when null the repository uses the <see cref="IMongoDatabase"/>
    /// registered by <c>AddTreecastMongo</c>.
    /// </summary>
    public IMongoDatabase? Database { get; set; }

    /// <summary>
    /// When set (and <see cref="Database"/> is not), the repository uses the keyed <see cref="IMongoDatabase"/>
    /// registered under this key by <c>AddTreecastMongo(configuration, serviceDatabase)</c>: the service's own database.
    /// </summary>
    public object? DatabaseKey { get; set; }

    /// <summary>An ascending index on <c>CurrentState</c>, for "which operations are in state X" (on by default).</summary>
    public bool IndexCurrentState { get; set; } = true;

    /// <summary>Indexes beyond the current-state one, created (idempotently) before the collection is first used.</summary>
    public IList<CreateIndexModel<TSaga>> Indexes { get; } = [];

    /// <summary>Declares one more index, for example <c>Index(k =&gt; k.Ascending(x =&gt; x.RootVmmId))</c>.</summary>
    public MongoSagaRepositoryOptions<TSaga> Index(
        Func<IndexKeysDefinitionBuilder<TSaga>, IndexKeysDefinition<TSaga>> keys,
        string? name = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        Indexes.Add(new CreateIndexModel<TSaga>(keys(Builders<TSaga>.IndexKeys), new CreateIndexOptions { Name = name }));
        return this;
    }

    /// <summary>Every index to create: the current-state one (when the saga has that property) and the declared ones.</summary>
    public IReadOnlyList<CreateIndexModel<TSaga>> AllIndexes()
    {
        var all = new List<CreateIndexModel<TSaga>>();
        if (IndexCurrentState && typeof(TSaga).GetProperty(CurrentStateField) is not null)
        {
            all.Add(new CreateIndexModel<TSaga>(Builders<TSaga>.IndexKeys.Ascending(CurrentStateField)));
        }

        all.AddRange(Indexes);
        return all;
    }
}
