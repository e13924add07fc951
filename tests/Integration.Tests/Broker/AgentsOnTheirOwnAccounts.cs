using System.Collections.Concurrent;
using RabbitMQ.Client;
using Treecast.Contracts;
using Treecast.TestSupport;
using Treecast.TestSupport.Processes;

namespace Treecast.Integration.Tests.Broker;

/// <summary>
/// Two agents as separate processes on a real broker, each logged in as its own broker user, plus the users of every
/// other role, for tests that attack the agents through the broker. <see cref="Target"/> runs two VMs; the test's
/// observer and <see cref="Admin"/> use the test's own account (an administrator on a test broker).
/// </summary>
public sealed class AgentsOnTheirOwnAccounts : IAsyncLifetime
{
    public const string Target = "host-01";
    public const string Neighbour = "host-02";

    private readonly RabbitMqBroker _broker = new();
    private readonly ConcurrentDictionary<string, BasicGetResult> _moved = new();
    private readonly Dictionary<string, ServiceProcess> _agents = [];
    private FleetProcesses? _processes;
    private BusObserver? _observer;
    private BrokerAccounts? _accounts;

    public string? Unavailable { get; private set; }

    public BrokerAccounts Accounts => _accounts ?? throw new InvalidOperationException("the fleet is unavailable: " + Unavailable);

    public BusObserver Observer => _observer ?? throw new InvalidOperationException("the fleet is unavailable: " + Unavailable);

    /// <summary>The test's own account.</summary>
    public Uri Admin => _broker.Uri ?? throw new InvalidOperationException("the fleet is unavailable: " + Unavailable);

    public async Task InitializeAsync()
    {
        await _broker.InitializeAsync();
        if (_broker.Uri is null)
        {
            Unavailable = _broker.Unavailable;
            return;
        }

        _accounts = await _broker.CreateAccountsAsync(Target, Neighbour);
        if (!_accounts.PerService)
        {
            Unavailable = "these tests need a broker user per service: " + _accounts.Unavailable;
            return;
        }

        _processes = new FleetProcesses("treecast-accounts-");
        _observer = await BusObserver.StartAsync(_broker.Uri, "accounts-observer-", Logs);
        _agents[Target] = _processes.StartAgent(_accounts, Target, "site-1/pod-1/rack-1", vmCount: 2, imageMiB: 1);
        _agents[Neighbour] = _processes.StartAgent(_accounts, Neighbour, "site-1/pod-1/rack-1", vmCount: 0, imageMiB: 1);
        await _observer.WaitForConsumerAsync(Addresses.AgentQueue(Target), TimeSpan.FromSeconds(90));
        await _observer.WaitForConsumerAsync(Addresses.AgentQueue(Neighbour), TimeSpan.FromSeconds(90));
    }

    public void Require() => Skip.If(Unavailable is not null, Unavailable);

    /// <summary>The lines agent <paramref name="vmmId"/> logged that contain <paramref name="text"/>, once it has logged one (or none after <paramref name="within"/>).</summary>
    public Task<IReadOnlyList<string>> AgentLinesWithAsync(string vmmId, string text, TimeSpan? within = null) => _agents[vmmId].LinesWithAsync(text, within);

    /// <summary>Waits until the message with AMQP message id <paramref name="messageId"/> is in agent <paramref name="vmmId"/>'s _error queue.</summary>
    public Task<BasicGetResult> MovedToErrorAsync(string vmmId, string messageId, TimeSpan within) =>
        MovedAsync(Addresses.AgentQueue(vmmId) + "_error", messageId, within);

    /// <summary>Waits until the message with AMQP message id <paramref name="messageId"/> is in <paramref name="queue"/> (an _error or _skipped queue).</summary>
    public async Task<BasicGetResult> MovedAsync(string queue, string messageId, TimeSpan within)
    {
        var factory = new ConnectionFactory { Uri = Admin };
        await using var connection = await factory.CreateConnectionAsync();
        var deadline = DateTime.UtcNow + within;
        while (!_moved.ContainsKey(messageId))
        {
            // Tests share the queue: every message taken is kept for the test that waits for it.
            if (await TryGetAsync(connection, queue) is { } moved)
            {
                _moved[moved.BasicProperties.MessageId ?? string.Empty] = moved;
                continue;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"message {messageId} did not reach {queue} within {within}\n{Logs()}");
            }

            await Task.Delay(100);
        }

        return _moved[messageId];
    }

    public string Logs() => _processes?.Logs() ?? string.Empty;

    public async Task DisposeAsync()
    {
        if (_processes is not null)
        {
            await _processes.DisposeAsync();
        }

        if (_observer is not null)
        {
            await _observer.DisposeAsync();
        }

        await _broker.DisposeAsync();
    }

    private static async Task<BasicGetResult?> TryGetAsync(IConnection connection, string queue)
    {
        // A channel per try: asking for a queue that does not exist yet closes the channel.
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            return await channel.BasicGetAsync(queue, autoAck: true);
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            // The agent declares its _error queue with the first message it moves there.
            return null;
        }
    }
}
