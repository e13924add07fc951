using MassTransit;
using MassTransit.Context;
using MassTransit.Saga;
using MongoDB.Driver;

namespace Treecast.Persistence.Sagas;

/// <summary>
/// The saga repository as one message sees it: insert, load, update and delete of that message's saga, with
/// optimistic concurrency by <see cref="ISagaVersion.Version"/>. A conflict throws MassTransit's
/// <see cref="ConcurrencyException"/>, so the message is retried against the state that won.
/// </summary>
public sealed class MongoSagaRepositoryContext<TSaga, TMessage> : ConsumeContextScope<TMessage>, SagaRepositoryContext<TSaga, TMessage>
    where TSaga : class, ISagaVersion
    where TMessage : class
{
    private readonly MongoSagaCollection<TSaga> _sagas;
    private readonly ConsumeContext<TMessage> _consumeContext;
    private readonly ISagaConsumeContextFactory<MongoSagaCollection<TSaga>, TSaga> _factory;

    public MongoSagaRepositoryContext(
        MongoSagaCollection<TSaga> sagas,
        ConsumeContext<TMessage> consumeContext,
        ISagaConsumeContextFactory<MongoSagaCollection<TSaga>, TSaga> factory)
        : base(consumeContext)
    {
        _sagas = sagas;
        _consumeContext = consumeContext;
        _factory = factory;
    }

    public Task<SagaConsumeContext<TSaga, T>> CreateSagaConsumeContext<T>(ConsumeContext<T> consumeContext, TSaga instance, SagaConsumeContextMode mode)
        where T : class =>
        _factory.CreateSagaConsumeContext(_sagas, consumeContext, instance, mode);

    /// <summary>A new saga not stored yet: the pipeline calls <see cref="Save"/> once the message is handled.</summary>
    public Task<SagaConsumeContext<TSaga, TMessage>> Add(TSaga instance) =>
        _factory.CreateSagaConsumeContext(_sagas, _consumeContext, instance, SagaConsumeContextMode.Add);

    /// <summary>Stores a new saga first; null when one with that id already exists (the caller loads it instead).</summary>
    public async Task<SagaConsumeContext<TSaga, TMessage>?> Insert(TSaga instance)
    {
        var collection = await _sagas.ReadyAsync(CancellationToken).ConfigureAwait(false);
        try
        {
            await collection.InsertOneAsync(instance, cancellationToken: CancellationToken).ConfigureAwait(false);
        }
        catch (MongoWriteException ex) when (IsDuplicateKey(ex))
        {
            // Only a duplicate means "it exists": any other failure (server gone) must fail the message so it is
            // retried, not be mistaken for an existing saga.
            LogContext.Debug?.Log("SAGA:{SagaType}:{CorrelationId} already exists in {Collection}",
                typeof(TSaga).Name, instance.CorrelationId, _sagas.CollectionName);
            return null;
        }

        return await _factory.CreateSagaConsumeContext(_sagas, _consumeContext, instance, SagaConsumeContextMode.Insert)
            .ConfigureAwait(false);
    }

    public async Task<SagaConsumeContext<TSaga, TMessage>?> Load(Guid correlationId)
    {
        var collection = await _sagas.ReadyAsync(CancellationToken).ConfigureAwait(false);
        var instance = await collection.Find(MongoSagaFilters.ById<TSaga>(correlationId))
            .FirstOrDefaultAsync(CancellationToken)
            .ConfigureAwait(false);
        if (instance is null)
        {
            return null;
        }

        return await _factory.CreateSagaConsumeContext(_sagas, _consumeContext, instance, SagaConsumeContextMode.Load)
            .ConfigureAwait(false);
    }

    /// <summary>Stores a saga created by <see cref="Add"/>.</summary>
    public async Task Save(SagaConsumeContext<TSaga> context)
    {
        var collection = await _sagas.ReadyAsync(CancellationToken).ConfigureAwait(false);
        try
        {
            await collection.InsertOneAsync(context.Saga, cancellationToken: CancellationToken).ConfigureAwait(false);
        }
        catch (MongoWriteException ex) when (IsDuplicateKey(ex))
        {
            // Two initial messages raced and the other one stored first: on retry this message loads that saga.
            throw new ConcurrencyException(
                $"Saga {typeof(TSaga).Name} {context.Saga.CorrelationId} was created by another message first",
                typeof(TSaga), context.Saga.CorrelationId, ex);
        }
    }

    public async Task Update(SagaConsumeContext<TSaga> context)
    {
        var saga = context.Saga;
        var collection = await _sagas.ReadyAsync(CancellationToken).ConfigureAwait(false);
        saga.Version++;
        var result = await collection.ReplaceOneAsync(
                MongoSagaFilters.ForUpdate<TSaga>(saga.CorrelationId, saga.Version),
                saga,
                new ReplaceOptions { IsUpsert = false },
                CancellationToken)
            .ConfigureAwait(false);
        if (result.MatchedCount == 0)
        {
            throw new ConcurrencyException(
                $"Saga {typeof(TSaga).Name} {saga.CorrelationId} was changed by another message (or deleted) since it was "
                + $"loaded; version {saga.Version} not saved",
                typeof(TSaga), saga.CorrelationId);
        }
    }

    public async Task Delete(SagaConsumeContext<TSaga> context)
    {
        var saga = context.Saga;
        var collection = await _sagas.ReadyAsync(CancellationToken).ConfigureAwait(false);
        var result = await collection.DeleteOneAsync(
                MongoSagaFilters.ForDelete<TSaga>(saga.CorrelationId, saga.Version),
                CancellationToken)
            .ConfigureAwait(false);
        if (result.DeletedCount == 0)
        {
            throw new ConcurrencyException(
                $"Saga {typeof(TSaga).Name} {saga.CorrelationId} was changed by another message (or deleted) since it was "
                + $"loaded at version {saga.Version}; not deleted",
                typeof(TSaga), saga.CorrelationId);
        }
    }

    // Nothing was written for a discarded saga (Add stores nothing until Save), and MongoDB writes here are
    // single-document and immediate, so there is nothing to undo.
    public Task Discard(SagaConsumeContext<TSaga> context) => Task.CompletedTask;

    public Task Undo(SagaConsumeContext<TSaga> context) => Task.CompletedTask;

    private static bool IsDuplicateKey(MongoWriteException ex) =>
        ex.WriteError?.Category == ServerErrorCategory.DuplicateKey;
}
