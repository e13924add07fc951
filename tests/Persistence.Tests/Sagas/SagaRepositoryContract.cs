using MassTransit;
using MassTransit.Saga;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Treecast.Persistence.Tests.Support;
using Treecast.TestSupport.Harness;

namespace Treecast.Persistence.Tests.Sagas;

/// <summary>
/// What every saga store must do, asserted the same way against each: through MassTransit's own repository
/// interfaces inside a real message (insert, load, update, delete), from outside (load, query by expression),
/// and end to end with a state machine on the test harness. A subclass names the store.
/// </summary>
public abstract class SagaRepositoryContract : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private ServiceProvider? _provider;

    protected ITestHarness Harness { get; private set; } = null!;

    protected ISagaStateMachineTestHarness<CounterStateMachine, CounterSaga> Counters { get; private set; } = null!;

    /// <summary>Skips the test, with the reason, when the store is not reachable here.</summary>
    protected virtual void RequireStore()
    {
    }

    protected abstract void UseRepository(ISagaRegistrationConfigurator<CounterSaga> saga);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task An_inserted_saga_loads_back()
    {
        await StartAsync();
        var id = NewId.NextGuid();

        await InRepository(async repository =>
        {
            var inserted = await repository.Insert(Counter(id, "blue", count: 3));
            Assert.NotNull(inserted);
            Release(inserted);

            var loaded = await repository.Load(id);
            Assert.NotNull(loaded);
            Assert.Equal("blue", loaded.Saga.Label);
            Assert.Equal(3, loaded.Saga.Count);
            Release(loaded);
        });

        var stored = await LoadAsync(id);
        Assert.NotNull(stored);
        Assert.Equal("blue", stored.Label);
    }

    [SkippableFact]
    public async Task A_duplicate_insert_returns_nothing_and_keeps_the_first()
    {
        await StartAsync();
        var id = NewId.NextGuid();

        await InRepository(async repository =>
        {
            Release(await repository.Insert(Counter(id, "first", count: 1)));
            var duplicate = await repository.Insert(Counter(id, "second", count: 2));
            Assert.Null(duplicate);
        });

        var stored = await LoadAsync(id);
        Assert.NotNull(stored);
        Assert.Equal("first", stored.Label);
        Assert.Equal(1, stored.Count);
    }

    [SkippableFact]
    public async Task Loading_a_saga_that_does_not_exist_finds_nothing()
    {
        await StartAsync();
        var id = NewId.NextGuid();

        await InRepository(async repository => Assert.Null(await repository.Load(id)));
        Assert.Null(await LoadAsync(id));
    }

    [SkippableFact]
    public async Task An_updated_saga_keeps_its_changes()
    {
        await StartAsync();
        var id = NewId.NextGuid();
        await InRepository(async repository => Release(await repository.Insert(Counter(id, "blue", count: 0))));

        await InRepository(async repository =>
        {
            var loaded = await repository.Load(id);
            Assert.NotNull(loaded);
            loaded.Saga.Count = 7;
            loaded.Saga.Label = "green";
            await repository.Update(loaded);
            Release(loaded);
        });

        var stored = await LoadAsync(id);
        Assert.NotNull(stored);
        Assert.Equal(7, stored.Count);
        Assert.Equal("green", stored.Label);
    }

    [SkippableFact]
    public async Task A_deleted_saga_is_gone()
    {
        await StartAsync();
        var id = NewId.NextGuid();
        await InRepository(async repository => Release(await repository.Insert(Counter(id, "blue", count: 0))));

        await InRepository(async repository =>
        {
            var loaded = await repository.Load(id);
            Assert.NotNull(loaded);
            await repository.Delete(loaded);
            Release(loaded);
        });

        await InRepository(async repository => Assert.Null(await repository.Load(id)));
        Assert.Null(await LoadAsync(id));
    }

    [SkippableFact]
    public async Task A_query_by_expression_finds_exactly_the_matching_sagas()
    {
        await StartAsync();
        var red = "red-" + Guid.NewGuid().ToString("N");
        Guid[] reds = [NewId.NextGuid(), NewId.NextGuid()];
        var other = NewId.NextGuid();
        await InRepository(async repository =>
        {
            Release(await repository.Insert(Counter(reds[0], red, count: 1)));
            Release(await repository.Insert(Counter(reds[1], red, count: 2)));
            Release(await repository.Insert(Counter(other, "yellow-" + Guid.NewGuid().ToString("N"), count: 3)));
        });

        var query = Services.GetRequiredService<IQuerySagaRepository<CounterSaga>>();
        var found = await query.Find(new SagaQuery<CounterSaga>(x => x.Label == red && x.Count >= 1));

        Assert.Equal(reds.Order(), found.Order());
    }

    [SkippableFact]
    public async Task The_initial_event_stores_a_saga_in_its_first_state()
    {
        await StartAsync();
        var id = NewId.NextGuid();
        var at = new DateTimeOffset(2026, 11, 25, 9, 0, 0, 123, TimeSpan.Zero);

        await Harness.Bus.Publish(new CounterStarted(id, "blue", at));

        Assert.NotNull(await Counters.Exists(id, machine => machine.Counting, Patience));
        var stored = await LoadAsync(id);
        Assert.NotNull(stored);
        Assert.Equal(nameof(CounterStateMachine.Counting), stored.CurrentState);
        Assert.Equal("blue", stored.Label);
        Assert.Equal(at, stored.StartedAt);
    }

    [SkippableFact]
    public async Task A_repeated_initial_event_leaves_one_saga_and_no_fault()
    {
        await StartAsync();
        var id = NewId.NextGuid();
        var label = "twice-" + Guid.NewGuid().ToString("N");

        await Task.WhenAll(
            Harness.Bus.Publish(new CounterStarted(id, label, DateTimeOffset.UtcNow)),
            Harness.Bus.Publish(new CounterStarted(id, label, DateTimeOffset.UtcNow)));

        Assert.True(await Harness.Consumed.ShowsAsync<CounterStarted>(x => x.CounterId == id));
        Assert.NotNull(await Counters.Exists(id, machine => machine.Counting, Patience));
        await Harness.InactivityTask;
        var found = await Services.GetRequiredService<IQuerySagaRepository<CounterSaga>>()
            .Find(new SagaQuery<CounterSaga>(x => x.Label == label));
        Assert.Equal([id], found);
        Assert.False(await Harness.Published.Any<Fault<CounterStarted>>());
    }

    [SkippableFact]
    public async Task Concurrent_events_for_one_saga_are_all_applied()
    {
        await StartAsync();
        var id = NewId.NextGuid();
        const int increments = 20;
        await Harness.Bus.Publish(new CounterStarted(id, "busy", DateTimeOffset.UtcNow));
        Assert.NotNull(await Counters.Exists(id, machine => machine.Counting, Patience));

        await Task.WhenAll(Enumerable.Range(0, increments).Select(_ => Harness.Bus.Publish(new CounterIncremented(id))));

        var stored = await WaitForAsync(id, saga => saga?.Count == increments);
        Assert.Equal(increments, stored?.Count);
        Assert.False(await Harness.Published.Any<Fault<CounterIncremented>>());
    }

    [SkippableFact]
    public async Task A_finalized_saga_is_removed()
    {
        await StartAsync();
        var id = NewId.NextGuid();
        await Harness.Bus.Publish(new CounterStarted(id, "short", DateTimeOffset.UtcNow));
        Assert.NotNull(await Counters.Exists(id, machine => machine.Counting, Patience));

        await Harness.Bus.Publish(new CounterStopped(id));

        Assert.Null(await Counters.NotExists(id, Patience));
        Assert.Null(await LoadAsync(id));
    }

    protected IServiceProvider Services => _provider ?? throw new InvalidOperationException("StartAsync first");

    protected async Task StartAsync()
    {
        RequireStore();
        _provider = new ServiceCollection()
            .AddLogging()
            .AddSingleton<RepositoryScripts>()
            .AddMassTransitTestHarness(x =>
            {
                x.SetTestTimeouts(testTimeout: Patience, testInactivityTimeout: TimeSpan.FromSeconds(1));
                UseRepository(x.AddSagaStateMachine<CounterStateMachine, CounterSaga>());
                x.AddConsumer<RepositoryProbeConsumer>();

                // What every Treecast endpoint does: a concurrency conflict is retried against the winning state.
                x.AddConfigureEndpointsCallback((_, _, endpoint) =>
                    endpoint.UseMessageRetry(r => r.Interval(50, TimeSpan.FromMilliseconds(20))));
            })
            .BuildServiceProvider(true);
        Harness = _provider.GetRequiredService<ITestHarness>();
        await Harness.Start();
        Counters = Harness.GetSagaStateMachineHarness<CounterStateMachine, CounterSaga>();
    }

    /// <summary>Runs <paramref name="script"/> in the repository context the store creates for a real message.</summary>
    protected async Task InRepository(Func<SagaRepositoryContext<CounterSaga, RepositoryProbe>, Task> script)
    {
        var (id, done) = Services.GetRequiredService<RepositoryScripts>().Add(script);
        await Harness.Bus.Publish(new RepositoryProbe(id));
        await done.WaitAsync(Patience);
    }

    protected Task<CounterSaga?> LoadAsync(Guid id) =>
        Services.GetRequiredService<ILoadSagaRepository<CounterSaga>>().Load(id)!;

    protected async Task<CounterSaga?> WaitForAsync(Guid id, Func<CounterSaga?, bool> done)
    {
        var until = DateTime.UtcNow + Patience;
        while (true)
        {
            var saga = await LoadAsync(id);
            if (done(saga) || DateTime.UtcNow > until)
            {
                return saga;
            }

            await Task.Delay(50);
        }
    }

    protected static CounterSaga Counter(Guid id, string label, int count) => new()
    {
        CorrelationId = id,
        CurrentState = nameof(CounterStateMachine.Counting),
        Label = label,
        Count = count,
        StartedAt = new DateTimeOffset(2026, 11, 25, 9, 0, 0, TimeSpan.Zero),
    };

    /// <summary>
    /// Ends this test's hold on a saga. The in-memory store locks an instance for as long as its context
    /// lives (the saga pipeline disposes it after each message); a second load in the same script would wait for ever.
    /// </summary>
    protected static void Release(object? sagaContext)
    {
        if (sagaContext is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }
}
