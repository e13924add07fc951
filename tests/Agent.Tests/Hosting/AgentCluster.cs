using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Treecast.Agent.Hosting;
using Treecast.Agent.Tests.Support;
using Treecast.Contracts;
using Treecast.Hosting;
using Treecast.TestSupport;

namespace Treecast.Agent.Tests.Hosting;

/// <summary>
/// Several agent runtimes in one host on a real in-memory bus, plus a queue that records what they publish; they speak
/// mutual TLS with certificates of an in-memory CA of the cluster.
/// </summary>
internal sealed class AgentCluster : IAsyncDisposable
{
    private readonly IHost _host;
    private HostReceiveEndpointHandle? _observer;

    private AgentCluster(IHost host, string workRoot)
    {
        _host = host;
        WorkRoot = workRoot;
    }

    /// <summary>Where the agents without a work directory of their own work (<c>{WorkRoot}/{vmmId}</c>), deleted with the cluster.</summary>
    public string WorkRoot { get; }

    public RecordingEventSink Events { get; } = new();

    public AgentDirectory Agents => _host.Services.GetRequiredService<AgentDirectory>();

    public IBus Bus => _host.Services.GetRequiredService<IBus>();

    public static Task<AgentCluster> StartAsync(params string[] vmmIds) =>
        StartAsync(vmmIds.Select(id => new AgentOptions
        {
            VmmId = id,
            Location = "site-a/pod-1/rack-1",
            VmCount = 2,
            ImageMiB = 1,
            HeartbeatInterval = TimeSpan.FromMilliseconds(200),
        }).ToArray());

    /// <summary>Agents as <paramref name="hosts"/> say; <paramref name="configure"/> may register services first (a VMM factory, loggers).</summary>
    public static async Task<AgentCluster> StartAsync(IReadOnlyList<AgentOptions> hosts, Action<IHostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        configure?.Invoke(builder);
        var workRoot = Path.Combine(Path.GetTempPath(), "treecast-agent-tests", Guid.NewGuid().ToString("N"));
        foreach (var host in hosts.Where(h => string.IsNullOrWhiteSpace(h.WorkDirectory)))
        {
            // Not the default {temp}/treecast-agent/{id}: test classes run side by side with the same agent ids.
            host.WorkDirectory = Path.Combine(workRoot, host.VmmId);
        }

        // Mutual TLS as deployed, with a CA of the cluster's own, unless a test asked for cleartext or gave certificates.
        var certificates = new FleetCertificates();
        foreach (var host in hosts.Where(h => !h.Tls.AllowPlaintext && h.Tls.Credentials is null && string.IsNullOrWhiteSpace(h.Tls.Directory)))
        {
            host.Tls.Credentials = certificates.For(host.VmmId);
        }

        builder.AddAgentService([.. hosts]);
        builder.AddTreecastBus();
        var cluster = new AgentCluster(builder.Build(), workRoot);
        try
        {
            await cluster._host.StartAsync();
            foreach (var agent in cluster.Agents.Hosts)
            {
                await agent.Ready.WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        catch
        {
            // Agents that did start own VMMs (QEMU processes): stop them before the failure reaches the test.
            await cluster.DisposeAsync();
            throw;
        }

        cluster._observer = cluster.Bus.ConnectReceiveEndpoint($"agent-tests-{Guid.NewGuid():N}", e =>
        {
            e.Handler<VmsPaused>(c => cluster.Events.PublishAsync(c.Message, default));
            e.Handler<VmImagesSealed>(c => cluster.Events.PublishAsync(c.Message, default));
            e.Handler<ReadyToReceive>(c => cluster.Events.PublishAsync(c.Message, default));
            e.Handler<VmsReceived>(c => cluster.Events.PublishAsync(c.Message, default));
            e.Handler<TransferProgressed>(c => cluster.Events.PublishAsync(c.Message, default));
            e.Handler<VmsResumed>(c => cluster.Events.PublishAsync(c.Message, default));
            e.Handler<OperationStepFailed>(c => cluster.Events.PublishAsync(c.Message, default));
            e.Handler<VmmHeartbeat>(c => cluster.Events.PublishAsync(c.Message, default));
            e.Handler<WorkloadStarted>(c => cluster.Events.PublishAsync(c.Message, default));
            e.Handler<WorkloadCompleted>(c => cluster.Events.PublishAsync(c.Message, default));
            e.Handler<ParentUnreachable>(c => cluster.Events.PublishAsync(c.Message, default));
            e.Handler<ReceiveResumed>(c => cluster.Events.PublishAsync(c.Message, default));
            e.Handler<TransferCancelled>(c => cluster.Events.PublishAsync(c.Message, default));
            e.Handler<WorkloadStatusReported>(c => cluster.Events.PublishAsync(c.Message, default));
        });
        await cluster._observer.Ready;

        // Announcements are sent to each agent's own exchange, not published: the cluster records what the agents consume.
        cluster.Bus.ConnectConsumeMessageObserver(new AnnouncementsConsumed(cluster.Events));
        return cluster;
    }

    public async Task SendAsync<T>(string vmmId, T command)
        where T : class
    {
        var endpoint = await Bus.GetSendEndpoint(Addresses.Agent(vmmId));
        await endpoint.Send(command);
    }

    /// <summary>
    /// Runs a whole broadcast from vmm-a as the saga would (pause, announce, start) over the tree of <paramref name="edges"/>
    /// (child, parent) and waits until every receiver verified; the root's forwarders have ended when it returns.
    /// </summary>
    public async Task<VmsPaused> BroadcastAsync(Guid operationId, params (string VmmId, string ParentVmmId)[] edges)
    {
        var tree = new VmmTree(1, "vmm-a", 2, edges
            .Select(e => new TreeNode(e.VmmId, e.ParentVmmId, "site-a/pod-1/rack-1", Agents[e.VmmId].GrpcEndpoint))
            .Prepend(new TreeNode("vmm-a", null, "site-a/pod-1/rack-1", Agents["vmm-a"].GrpcEndpoint))
            .ToList());
        await SendAsync("vmm-a", new PauseVms(operationId, "vmm-a"));
        var paused = await Events.WaitForAsync<VmsPaused>(p => p.OperationId == operationId);
        await SendAsync("vmm-a", new AnnouncePendingTransfer(operationId, "vmm-a", tree, paused.Vms, 256 * 1024, BroadcastMode.Broadcast));
        foreach (var (vmmId, _) in edges)
        {
            await Events.WaitForAsync<ReadyToReceive>(r => r.OperationId == operationId && r.VmmId == vmmId);
        }

        await SendAsync("vmm-a", new StartTransfer(operationId, "vmm-a"));
        foreach (var (vmmId, _) in edges)
        {
            await Events.WaitForAsync<VmsReceived>(r => r.OperationId == operationId && r.VmmId == vmmId, TimeSpan.FromMinutes(2));
        }

        foreach (var vmmId in edges.Select(e => e.ParentVmmId).Distinct())
        {
            await Agents[vmmId].Node.Transfers.ForwardingCompletion(operationId).WaitAsync(TimeSpan.FromMinutes(1));
        }

        return paused;
    }

    /// <summary>Records every announcement an agent of the cluster consumes (its slice of the tree).</summary>
    private sealed class AnnouncementsConsumed(RecordingEventSink events) : IConsumeMessageObserver<PendingTransferAnnounced>
    {
        public Task PreConsume(ConsumeContext<PendingTransferAnnounced> context) => events.PublishAsync(context.Message, default);

        public Task PostConsume(ConsumeContext<PendingTransferAnnounced> context) => Task.CompletedTask;

        public Task ConsumeFault(ConsumeContext<PendingTransferAnnounced> context, Exception exception) => Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_observer is not null)
        {
            await _observer.StopAsync();
        }

        await _host.StopAsync();
        if (_host is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
        else
        {
            _host.Dispose();
        }

        try
        {
            if (Directory.Exists(WorkRoot))
            {
                Directory.Delete(WorkRoot, recursive: true);
            }
        }
        catch (IOException)
        {
            // A leftover temporary directory must not fail a test.
        }
    }
}
