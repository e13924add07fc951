using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Treecast.Contracts;
using Treecast.TestSupport;
using Treecast.TestSupport.Harness;
using Treecast.Topology.Liveness;
using Treecast.Topology.Registry;
using Treecast.Topology.Trees;

namespace Treecast.Topology.Tests;

/// <summary>The topology consumers on the MassTransit test harness, with a clock the test moves.</summary>
internal sealed class TopologyHarness : IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    private TopologyHarness(ServiceProvider provider)
    {
        _provider = provider;
        Harness = provider.GetRequiredService<ITestHarness>();
    }

    public static DateTimeOffset Start { get; } = new(2025, 3, 1, 8, 0, 0, TimeSpan.Zero);

    public ITestHarness Harness { get; }

    public FakeTimeProvider Time => _provider.GetRequiredService<FakeTimeProvider>();

    public IVmmRegistry Registry => _provider.GetRequiredService<IVmmRegistry>();

    public ITreeVersions Versions => _provider.GetRequiredService<ITreeVersions>();

    public TopologyOptions Options => _provider.GetRequiredService<IOptions<TopologyOptions>>().Value;

    public static async Task<TopologyHarness> StartAsync(TopologyOptions? options = null)
    {
        var services = new ServiceCollection();
        var time = new FakeTimeProvider(Start);
        services.AddSingleton(time);
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options ?? new TopologyOptions { ReconnectGrace = TimeSpan.Zero }));
        services.AddSingleton<IVmmRegistry, InMemoryVmmRegistry>();
        services.AddSingleton<ITreeVersions, InMemoryTreeVersions>();
        services.AddSingleton<TreeBuilder>();
        services.AddSingleton<TreeResolver>();
        services.AddSingleton(typeof(Microsoft.Extensions.Logging.ILogger<>), typeof(NullLogger<>));
        services.AddMassTransitTestHarness(TopologyServiceExtensions.AddTopologyConsumers);
        var provider = services.BuildServiceProvider(true);
        var harness = new TopologyHarness(provider);
        await harness.Harness.Start();

        // The bus reports its queue ready on its own thread, possibly after Start returns. A report that came after a
        // test moved the clock would restart every VMM's silence at the moved time, and nothing would be judged lost.
        if (!await Eventually.TrueAsync(() => harness.Reception.ReceivingSince == Start))
        {
            throw new TimeoutException($"The topology queue did not report it was receiving (since {harness.Reception.ReceivingSince:O}).");
        }

        return harness;
    }

    /// <summary>What the liveness monitor knows of the topology queue's connection to the broker.</summary>
    public HeartbeatReception Reception => _provider.GetRequiredService<HeartbeatReception>();

    public LivenessMonitor Monitor() => ActivatorUtilities.CreateInstance<LivenessMonitor>(_provider);

    public static VmmHeartbeat Heartbeat(string vmmId, string location = "site-1/pod-1/rack-1", double intervalSeconds = 1) =>
        new(vmmId, $"http://{vmmId}:5001", location, [$"{vmmId}-vm-1"], Start.AddYears(-1), TimeSpan.FromSeconds(intervalSeconds));

    /// <summary>Records a heartbeat as received now, without going through the bus.</summary>
    public Task Beat(string vmmId, string location = "site-1/pod-1/rack-1", double intervalSeconds = 1) =>
        Registry.RecordHeartbeatAsync(Heartbeat(vmmId, location, intervalSeconds), Time.GetUtcNow(), CancellationToken.None);

    public async Task SendAsync<T>(T message)
        where T : class
    {
        var endpoint = await Harness.Bus.GetSendEndpoint(Addresses.Topology);
        await endpoint.Send(message);
    }

    /// <summary>The <typeparamref name="T"/> messages published so far.</summary>
    public IReadOnlyList<T> Published<T>()
        where T : class =>
        Harness.Published.Now<T>();

    /// <summary>
    /// Waits for a published message by polling, because the harness's own <c>Any</c> returns at once when a
    /// second request follows a first one the harness already saw go quiet.
    /// </summary>
    public async Task<T> WaitForPublished<T>(Func<T, bool> match, TimeSpan? timeout = null)
        where T : class
    {
        if (!await Eventually.TrueAsync(() => Published<T>().Any(match), timeout))
        {
            throw new TimeoutException($"No {typeof(T).Name} matching the test's condition was published within the timeout.");
        }

        return Published<T>().First(match);
    }

    public async ValueTask DisposeAsync()
    {
        await Harness.Stop();
        await _provider.DisposeAsync();
    }
}
