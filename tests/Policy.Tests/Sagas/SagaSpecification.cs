using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Treecast.Contracts;
using Treecast.Policy.Operations;
using Treecast.Policy.Sagas;
using Treecast.TestSupport.Harness;

namespace Treecast.Policy.Tests.Sagas;

/// <summary>
/// Both sagas on the MassTransit test harness, registered exactly as the policy service registers them,
/// with a fake clock. Tests play the other services by publishing the events those would publish.
/// </summary>
public abstract class SagaSpecification : IAsyncLifetime
{
    protected static readonly TimeSpan Deadline = TimeSpan.FromMinutes(10);

    private readonly ConsumeLog _consumeLog = new();
    private ServiceProvider? _provider;

    // Endpoint names as Treecast.Hosting names them in every service.
    private static readonly IEndpointNameFormatter EndpointNames = KebabCaseEndpointNameFormatter.Instance;

    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 25, 9, 0, 0, TimeSpan.Zero));

    protected ITestHarness Harness { get; private set; } = null!;

    protected ISagaStateMachineTestHarness<BroadcastOperationStateMachine, BroadcastOperationState> Operations { get; private set; } = null!;

    protected ISagaStateMachineTestHarness<DeadlineWatchStateMachine, DeadlineWatchState> Watches { get; private set; } = null!;

    /// <summary>Configuration the policy service would read (for example <c>Policy:Timeouts:Pause</c>).</summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>();

    public async Task InitializeAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Settings).Build();
        _provider = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(configuration)
            .AddSingleton<TimeProvider>(Clock)
            .AddSingleton<IOperationReadModel, SagaRepositoryOperationReadModel>()
            .AddMassTransitTestHarness(x =>
            {
                // Short inactivity: assertions that something was NOT sent wait this long.
                x.SetTestTimeouts(testTimeout: TimeSpan.FromMinutes(1), testInactivityTimeout: TimeSpan.FromSeconds(1));
                x.SetEndpointNameFormatter(EndpointNames);
                x.AddTreecastSagas();
                x.AddConsumer<TransferProgressConsumer, TransferProgressConsumerDefinition>();
                x.AddConsumer<VmmLostConsumer>();
            })
            .BuildServiceProvider(true);
        Harness = _provider.GetRequiredService<ITestHarness>();
        await Harness.Start();
        Harness.Bus.ConnectConsumeObserver(_consumeLog);
        Operations = Harness.GetSagaStateMachineHarness<BroadcastOperationStateMachine, BroadcastOperationState>();
        Watches = Harness.GetSagaStateMachineHarness<DeadlineWatchStateMachine, DeadlineWatchState>();
    }

    public async Task DisposeAsync()
    {
        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }
    }

    protected BroadcastOperationStateMachine OperationMachine => Operations.StateMachine;

    /// <summary>Where the policy service keeps receivers' progress reports (not the saga document).</summary>
    protected IOperationProgressStore Progress => _provider!.GetRequiredService<IOperationProgressStore>();

    protected DeadlineWatchStateMachine WatchMachine => Watches.StateMachine;

    /// <summary>The saga instance once it is in <paramref name="state"/>; fails the test if it never gets there.</summary>
    protected async Task<BroadcastOperationState> OperationIn(Guid operationId, Func<BroadcastOperationStateMachine, State> state)
    {
        var found = await Operations.Exists(operationId, state);
        Assert.True(found.HasValue, $"operation {operationId} never reached {state(OperationMachine).Name}");
        return Operations.Sagas.Contains(operationId);
    }

    protected async Task<DeadlineWatchState> WatchIn(Guid watchId, Func<DeadlineWatchStateMachine, State> state)
    {
        var found = await Watches.Exists(watchId, state);
        Assert.True(found.HasValue, $"watch {watchId} never reached {state(WatchMachine).Name}");
        return Watches.Sagas.Contains(watchId);
    }

    /// <summary>The messages of type <typeparamref name="T"/> sent to <paramref name="queue"/> so far.</summary>
    protected IReadOnlyList<T> SentTo<T>(string queue)
        where T : class =>
        Harness.Sent.Select<T>()
            .Where(m => m.Context.DestinationAddress?.AbsolutePath.Trim('/') == queue)
            .Select(m => m.Context.Message)
            .ToList();

    /// <summary>Waits for a message of type <typeparamref name="T"/> sent to <paramref name="queue"/>.</summary>
    protected async Task<T> SentTo<T>(string queue, Func<T, bool> match)
        where T : class
    {
        Assert.True(await Eventually(() => SentTo<T>(queue).Any(match)), $"no {typeof(T).Name} was sent to {queue}");
        return SentTo<T>(queue).Last(match);
    }

    protected async Task<T> Published<T>(Func<T, bool> match)
        where T : class
    {
        IEnumerable<T> Matching() => Harness.Published.Now(match);
        Assert.True(await Eventually(() => Matching().Any()), $"no {typeof(T).Name} was published");
        return Matching().Last();
    }

    /// <summary>Waits for the bus to go quiet and fails if any consumer faulted on the way.</summary>
    protected async Task AssertNoFaults()
    {
        var faulted = await Harness.Published.Any(m =>
            m.MessageType.IsGenericType && m.MessageType.GetGenericTypeDefinition() == typeof(Fault<>));
        Assert.False(faulted, "a consumer faulted");
    }

    protected Task Publish<T>(T message)
        where T : class =>
        Harness.Bus.Publish(message);

    /// <summary>Publishes and waits until the broadcast operation saga has consumed it, for events meant to change nothing.</summary>
    protected Task PublishToOperations<T>(T message)
        where T : class =>
        PublishAndWait(message, EndpointNames.Saga<BroadcastOperationState>());

    /// <summary>Publishes and waits until the deadline watch saga has consumed it, for events meant to change nothing.</summary>
    protected Task PublishToWatches<T>(T message)
        where T : class =>
        PublishAndWait(message, EndpointNames.Saga<DeadlineWatchState>());

    private async Task PublishAndWait<T>(T message, string sagaQueue)
        where T : class
    {
        var messageId = NewId.NextGuid();
        await Harness.Bus.Publish(message, context => context.MessageId = messageId);

        Assert.True(
            await Eventually(() => _consumeLog.Contains(messageId, sagaQueue)),
            $"{typeof(T).Name} was not consumed from {sagaQueue}");
    }

    /// <summary>
    /// Polls in real time. The harness's own waits end at bus inactivity, which can come before a saga's outbox
    /// has flushed what it sent on its last transition.
    /// </summary>
    protected static Task<bool> Eventually(Func<bool> condition) => TestSupport.Eventually.TrueAsync(condition);

    // The broadcast operation as the topology service and the agents would drive it.

    protected async Task<Guid> RequestBroadcast(BroadcastMode mode, string reason = "host.degraded on vmm-0", int stripes = 0, int fanOut = 2)
    {
        var operationId = NewId.NextGuid();
        await Publish(new BroadcastRequested(operationId, TestTree.Root, mode, fanOut, 65536, "degraded-host", reason, Clock.GetUtcNow(), stripes));
        await OperationIn(operationId, m => m.ResolvingTree);
        return operationId;
    }

    protected async Task ResolveTree(Guid operationId, VmmTree tree)
    {
        await Publish(new TreeResolved(operationId, tree));
        await OperationIn(operationId, m => m.Pausing);
    }

    protected Task PauseRoot(Guid operationId) =>
        Publish(new VmsPaused(operationId, TestTree.Root, TestTree.Vms));

    protected async Task Announce(Guid operationId)
    {
        await PauseRoot(operationId);
        await OperationIn(operationId, m => m.Announcing);
    }

    protected async Task ReadyEveryReceiver(Guid operationId)
    {
        foreach (var vmm in TestTree.Receivers)
        {
            await Publish(new ReadyToReceive(operationId, vmm));
        }

        await OperationIn(operationId, m => m.Transferring);
    }

    protected async Task ReceiveOnEveryReceiver(Guid operationId)
    {
        foreach (var vmm in TestTree.Receivers)
        {
            await Publish(new TransferProgressed(operationId, vmm, TestTree.TotalBytes, TestTree.TotalBytes));
            await Publish(new VmsReceived(operationId, vmm, TestTree.Copies(VmState.Paused)));
        }
    }

    protected async Task ResumeEverywhere(Guid operationId)
    {
        await Publish(new VmsResumed(operationId, TestTree.Root, TestTree.RunningCopiesOn(TestTree.Root)));
        foreach (var vmm in TestTree.Receivers)
        {
            await Publish(new VmsResumed(operationId, vmm, TestTree.RunningCopiesOn(vmm)));
        }
    }

    /// <summary>An operation over <see cref="TestTree"/> with every receiver ready: the root streams.</summary>
    protected async Task<Guid> Transferring(BroadcastMode mode, int fanOut = 2)
    {
        var id = await RequestBroadcast(mode, fanOut: fanOut);
        await ResolveTree(id, TestTree.Build());
        await Announce(id);
        await ReadyEveryReceiver(id);
        return id;
    }

    /// <summary>Each VMM reports its copies verified.</summary>
    protected async Task Receive(Guid id, params string[] vmms)
    {
        foreach (var vmm in vmms)
        {
            await Publish(new VmsReceived(id, vmm, TestTree.Copies(VmState.Paused)));
        }
    }

    /// <summary>Drives an operation over <see cref="TestTree"/> to its end: Completed, or Duplicated in duplicate mode.</summary>
    protected async Task<BroadcastOperationState> RunToTheEnd(BroadcastMode mode)
    {
        var operationId = await RequestBroadcast(mode);
        await ResolveTree(operationId, TestTree.Build());
        await Announce(operationId);
        await ReadyEveryReceiver(operationId);
        await ReceiveOnEveryReceiver(operationId);
        if (mode == BroadcastMode.Broadcast)
        {
            return await OperationIn(operationId, m => m.Completed);
        }

        await OperationIn(operationId, m => m.Duplicating);
        await ResumeEverywhere(operationId);
        return await OperationIn(operationId, m => m.Duplicated);
    }

    // The deadline watch as the policy service, the workload and the scheduler would drive it.

    protected async Task<Guid> WatchDeadline(string workloadId = "wl-1")
    {
        var watchId = NewId.NextGuid();
        await Publish(new DeadlineWatchRequested(watchId, workloadId, TestTree.Root, Deadline, 2, 65536, "deadline-safeguard", Clock.GetUtcNow()));
        await WatchIn(watchId, m => m.Watching);
        return watchId;
    }

    /// <summary>Fires a timer as the scheduler service would.</summary>
    protected TimerFired Fire(Guid timerId, Guid correlationId, string purpose) =>
        new(timerId, correlationId, purpose, Clock.GetUtcNow(), Clock.GetUtcNow());
}
