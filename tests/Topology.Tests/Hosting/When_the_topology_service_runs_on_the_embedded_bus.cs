using System.Net;
using System.Net.Http.Json;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Treecast.Contracts;
using Treecast.Hosting;
using Treecast.Topology.Endpoints;
using Treecast.Topology.Registry;

namespace Treecast.Topology.Tests.Hosting;

/// <summary>The service as Program.cs wires it: real registrations, the in-memory bus, HTTP on a free port.</summary>
public sealed class When_the_topology_service_runs_on_the_embedded_bus : IAsyncLifetime
{
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddTopologyService();
        builder.AddTreecastBus();
        _app = builder.Build();
        _app.MapTopologyEndpoints();
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _http = new HttpClient { BaseAddress = new Uri(address) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task Should_answer_a_tree_request_sent_to_the_topology_queue_over_vmms_from_published_heartbeats()
    {
        var bus = _app.Services.GetRequiredService<IBus>();
        var resolved = new TaskCompletionSource<TreeResolved>(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = bus.ConnectReceiveEndpoint("topology-test-observer", e => e.Handler<TreeResolved>(context =>
        {
            resolved.TrySetResult(context.Message);
            return Task.CompletedTask;
        }));
        await observer.Ready;

        foreach (var (id, rack) in new[] { ("host-01", "rack-1"), ("host-02", "rack-1"), ("host-03", "rack-2") })
        {
            await bus.Publish(new VmmHeartbeat(id, $"http://{id}:5001", $"site-1/pod-1/{rack}", [], DateTimeOffset.UtcNow, TimeSpan.FromSeconds(5)));
        }

        var registry = _app.Services.GetRequiredService<IVmmRegistry>();
        for (var wait = 0; wait < 500 && (await registry.ListLiveAsync(CancellationToken.None)).Count < 3; wait++)
        {
            await Task.Delay(10);
        }

        var operationId = Guid.NewGuid();
        var endpoint = await bus.GetSendEndpoint(Addresses.Topology);
        await endpoint.Send(new ResolveTree(operationId, "host-03", 2));

        var answer = await resolved.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(operationId, answer.OperationId);
        Assert.Equal(["host-03", "host-01", "host-02"], answer.Tree.Nodes.Select(n => n.VmmId));

        var vmms = await _http.GetFromJsonAsync<List<RegisteredVmm>>("/vmms");
        Assert.Equal(["host-01", "host-02", "host-03"], vmms!.Select(v => v.VmmId));
        var latest = await _http.GetFromJsonAsync<VmmTree>("/trees/latest");
        Assert.Equal(answer.Tree.Version, latest!.Version);
        Assert.Equal(answer.Tree.Nodes, latest.Nodes);
    }

    [Fact]
    public async Task Should_say_how_to_get_a_tree_when_none_was_built_yet()
    {
        var response = await _http.GetAsync("/trees/latest");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("ResolveTree", await response.Content.ReadAsStringAsync());
    }
}
