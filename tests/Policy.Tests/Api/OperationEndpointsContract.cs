using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Treecast.Contracts;
using Treecast.Hosting;
using Treecast.Policy.Api;
using Treecast.Policy.Operations;
using Treecast.Policy.Sagas;
using Treecast.Policy.Tests.Sagas;
using Treecast.Policy.Tests.Support;

namespace Treecast.Policy.Tests.Api;

/// <summary>
/// <c>GET /operations</c> and <c>GET /operations/{id}</c> on real Kestrel, after operations driven through the policy
/// service's own bus as the topology service and the agents would drive them. A subclass names the saga store.
/// </summary>
public abstract class OperationEndpointsContract : IAsyncLifetime
{
    private const string OperatorKey = "0123456789abcdef-operator";

    private static readonly DateTimeOffset Earlier = new(2026, 11, 25, 8, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Later = new(2026, 11, 25, 9, 0, 0, TimeSpan.Zero);

    private readonly TempPolicyDirectory _policies = new();
    private PolicyApiHost? _host;
    private HttpClient? _client;

    private HttpClient Client => _client ?? throw new InvalidOperationException("call StartAsync first");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _policies.Dispose();
    }

    /// <summary>Settings that choose the store; skips the test, with the reason, when the store is not reachable here.</summary>
    protected abstract IReadOnlyDictionary<string, string?> StoreSettings();

    [SkippableFact]
    public async Task A_completed_operation_reads_back_with_its_tree_progress_and_history()
    {
        await StartAsync();
        var id = await RunToCompletionAsync(Earlier);

        using var response = await Client.GetAsync($"/operations/{id}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var operation = body.RootElement;
        Assert.Equal(id, operation.GetProperty("correlationId").GetGuid());
        Assert.Equal("Completed", operation.GetProperty("currentState").GetString());
        Assert.Equal("Broadcast", operation.GetProperty("mode").GetString());
        Assert.Equal(3, operation.GetProperty("tree").GetProperty("version").GetInt64());
        Assert.Equal(4, operation.GetProperty("tree").GetProperty("nodes").GetArrayLength());
        var hosts = operation.GetProperty("hosts").EnumerateArray().ToList();
        Assert.Equal(["vmm-0", "vmm-1", "vmm-2", "vmm-3"], hosts.Select(h => h.GetProperty("vmmId").GetString()));
        Assert.All(hosts, h =>
        {
            Assert.True(h.GetProperty("verified").GetBoolean());
            Assert.Equal(TestTree.TotalBytes, h.GetProperty("bytesReceived").GetInt64());
            Assert.Equal("Paused", h.GetProperty("copies")[0].GetProperty("state").GetString());
        });
        Assert.Equal(
            ["ResolvingTree", "Pausing", "Announcing", "Transferring", "Completed"],
            operation.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("state").GetString()));
    }

    [SkippableFact]
    public async Task The_list_summarises_each_operation_newest_first()
    {
        await StartAsync();
        var completed = await RunToCompletionAsync(Earlier);
        var waiting = await RequestAsync(Later);

        using var list = await GetJsonAsync("/operations");

        var operations = list.RootElement.EnumerateArray().ToList();
        Assert.Equal([waiting, completed], operations.Select(o => o.GetProperty("id").GetGuid()));
        var done = operations[1];
        Assert.Equal("Completed", done.GetProperty("state").GetString());
        Assert.Equal("Broadcast", done.GetProperty("mode").GetString());
        Assert.Equal(TestTree.Root, done.GetProperty("root").GetString());
        Assert.Equal(Earlier, done.GetProperty("requestedAt").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.String, done.GetProperty("finishedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, done.GetProperty("failureReason").ValueKind);
        Assert.Equal(4, done.GetProperty("progress").GetProperty("verifiedVmms").GetInt32());
        Assert.Equal(4, done.GetProperty("progress").GetProperty("totalVmms").GetInt32());
        Assert.Equal("ResolvingTree", operations[0].GetProperty("state").GetString());
        Assert.Equal(0, operations[0].GetProperty("progress").GetProperty("totalVmms").GetInt32());
    }

    [SkippableFact]
    public async Task Filters_by_state_root_and_time()
    {
        await StartAsync();
        var completed = await RunToCompletionAsync(Earlier);
        var waiting = await RequestAsync(Later);

        Assert.Equal([completed], await IdsAsync("/operations?state=completed"));
        Assert.Equal([waiting], await IdsAsync("/operations?state=ResolvingTree&root=vmm-0"));
        Assert.Empty(await IdsAsync("/operations?root=vmm-9"));
        Assert.Equal([waiting], await IdsAsync("/operations?since=2026-11-25T08:30:00Z"));
        Assert.Equal([waiting, completed], await IdsAsync("/operations?since=2026-11-25T09:00:00%2B01:00"));
        Assert.Equal([waiting], await IdsAsync("/operations?limit=1"));
    }

    [SkippableFact]
    public async Task A_transferring_operation_reads_back_with_its_receivers_progress_merged_in()
    {
        await StartAsync();
        var id = await TransferringAsync(Later);
        await Bus.Publish(new TransferProgressed(id, "vmm-2", 6000, TestTree.TotalBytes));
        await Bus.Publish(new TransferProgressed(id, "vmm-3", 2000, TestTree.TotalBytes));
        await ReportedAsync(id, 2);

        using var detail = await GetJsonAsync($"/operations/{id}");
        var hosts = detail.RootElement.GetProperty("hosts").EnumerateArray().ToDictionary(h => h.GetProperty("vmmId").GetString()!);
        Assert.Equal(6000, hosts["vmm-2"].GetProperty("bytesReceived").GetInt64());
        Assert.Equal(2000, hosts["vmm-3"].GetProperty("bytesReceived").GetInt64());
        Assert.Equal(0, hosts["vmm-1"].GetProperty("bytesReceived").GetInt64());
        Assert.Equal(TestTree.TotalBytes, hosts["vmm-2"].GetProperty("totalBytes").GetInt64());
        Assert.Equal(JsonValueKind.String, hosts["vmm-2"].GetProperty("lastProgressAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, hosts["vmm-1"].GetProperty("lastProgressAt").ValueKind);
        Assert.Equal("Transferring", detail.RootElement.GetProperty("currentState").GetString());

        using var list = await GetJsonAsync("/operations");
        var progress = list.RootElement.EnumerateArray().Single(o => o.GetProperty("id").GetGuid() == id).GetProperty("progress");
        Assert.Equal(8000, progress.GetProperty("bytesReceived").GetInt64());
        Assert.Equal(3 * TestTree.TotalBytes, progress.GetProperty("totalBytes").GetInt64());
        Assert.Equal(JsonValueKind.String, progress.GetProperty("lastProgressAt").ValueKind);
        Assert.Equal(1, progress.GetProperty("verifiedVmms").GetInt32());
    }

    [SkippableFact]
    public async Task The_read_model_finds_the_running_operations_whose_tree_holds_a_vmm()
    {
        await StartAsync();
        var completed = await RunToCompletionAsync(Earlier);
        var transferring = await TransferringAsync(Later);
        var resolving = await RequestAsync(Later);
        var readModel = _host!.App.Services.GetRequiredService<IOperationReadModel>();

        Assert.Equal([transferring], await readModel.RunningWithHostAsync("vmm-3", CancellationToken.None));
        Assert.Empty(await readModel.RunningWithHostAsync("vmm-9", CancellationToken.None));
        Assert.DoesNotContain(completed, await readModel.RunningWithHostAsync(TestTree.Root, CancellationToken.None));
        Assert.DoesNotContain(resolving, await readModel.RunningWithHostAsync(TestTree.Root, CancellationToken.None));
    }

    [SkippableFact]
    public async Task A_cancel_is_accepted_and_reaches_the_operation()
    {
        await StartAsync();
        var id = await TransferringAsync(Later);

        using var response = await Client.PostAsync(
            $"/operations/{id}/cancel",
            new StringContent("""{ "requestedBy": "ops@example", "reason": "wrong root" }""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(id, body.RootElement.GetProperty("operationId").GetGuid());
        Assert.Equal("ops@example (key operator)", body.RootElement.GetProperty("requestedBy").GetString());
        await StateAsync(id, "Cancelling");
        var operation = await _host!.App.Services.GetRequiredService<IOperationReadModel>().FindAsync(id, CancellationToken.None);
        Assert.Equal("cancel requested by ops@example (key operator): wrong root", operation!.History[^1].Note);
        Assert.Equal("ops@example (key operator)", operation.Cancel?.RequestedBy);

        // The root's agent confirms its VMs run again.
        await Bus.Publish(new VmsResumed(id, TestTree.Root, TestTree.Copies(VmState.Running)));
        await StateAsync(id, "Cancelled");
        using var detail = await GetJsonAsync($"/operations/{id}");
        Assert.StartsWith("cancelled by ops@example (key operator) at ", detail.RootElement.GetProperty("failureReason").GetString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_cancel_without_a_body_names_the_key_and_a_second_one_is_accepted_too()
    {
        await StartAsync();
        var id = await RequestAsync(Later);

        using var first = await Client.PostAsync($"/operations/{id}/cancel", content: null);
        await StateAsync(id, "Cancelling");
        using var second = await Client.PostAsync($"/operations/{id}/cancel", content: null);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal("operator", JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("requestedBy").GetString());
    }

    [SkippableFact]
    public async Task A_cancel_of_an_ended_or_resuming_operation_is_a_409_that_says_why()
    {
        await StartAsync();
        var completed = await RunToCompletionAsync(Earlier);
        var duplicating = await TransferringAsync(Later, BroadcastMode.Duplicate);
        foreach (var vmm in TestTree.Receivers)
        {
            await Bus.Publish(new VmsReceived(duplicating, vmm, TestTree.Copies(VmState.Paused)));
        }

        await StateAsync(duplicating, "Duplicating");

        Assert.Contains("already ended Completed", await ConflictAsync($"/operations/{completed}/cancel"), StringComparison.Ordinal);
        Assert.Contains("resuming its copies (Duplicating)", await ConflictAsync($"/operations/{duplicating}/cancel"), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_bad_cancel_is_refused_with_a_line_that_names_the_fix()
    {
        await StartAsync();
        var id = await RequestAsync(Later);

        using var unknown = await Client.PostAsync($"/operations/{Guid.NewGuid()}/cancel", content: null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("GET /operations", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var notJson = await Client.PostAsync($"/operations/{id}/cancel", new StringContent("requestedBy=ops", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Contains("requestedBy", await notJson.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var huge = await Client.PostAsync(
            $"/operations/{id}/cancel",
            new StringContent($$"""{ "reason": "{{new string('x', 10_000)}}" }""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        Assert.Contains("4096 bytes", await huge.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal("ResolvingTree", (await _host!.App.Services.GetRequiredService<IOperationReadModel>().FindAsync(id, CancellationToken.None))!.CurrentState);
    }

    [SkippableFact]
    public async Task A_cancel_without_a_key_is_refused_with_401_and_the_operation_runs_on()
    {
        await StartAsync();
        var id = await RequestAsync(Later);
        using var anonymous = new HttpClient { BaseAddress = Client.BaseAddress };

        using var refused = await anonymous.PostAsync($"/operations/{id}/cancel", content: null);
        using var read = await anonymous.GetAsync($"/operations/{id}");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var operation = await _host!.App.Services.GetRequiredService<IOperationReadModel>().FindAsync(id, CancellationToken.None);
        Assert.Equal("ResolvingTree", operation!.CurrentState);
        Assert.Null(operation.Cancel);
    }

    [SkippableFact]
    public async Task An_unknown_operation_is_a_404_that_says_where_to_look()
    {
        await StartAsync();
        var unknown = Guid.NewGuid();

        using var response = await Client.GetAsync($"/operations/{unknown}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();
        Assert.Contains(unknown.ToString(), error, StringComparison.Ordinal);
        Assert.Contains("GET /operations", error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Bad_filters_are_a_400_that_names_the_fix()
    {
        await StartAsync();

        Assert.Contains("Transferring", await BadRequestAsync("/operations?state=transfering"), StringComparison.Ordinal);
        Assert.Contains("ISO 8601", await BadRequestAsync("/operations?since=yesterday"), StringComparison.Ordinal);
        Assert.Contains("1 to 1000", await BadRequestAsync("/operations?limit=0"), StringComparison.Ordinal);
        Assert.Contains("GUID", await BadRequestAsync("/operations/not-an-id"), StringComparison.Ordinal);
    }

    private async Task StartAsync()
    {
        _policies.Write("policies.yaml", Yaml.Degraded);
        var settings = new Dictionary<string, string?>(StoreSettings()) { ["Api:Keys:operator"] = OperatorKey };
        _host = await PolicyApiHost.StartAsync(_policies.Path, settings);
        _client = _host.Client(OperatorKey);
    }

    private async Task<Guid> RequestAsync(DateTimeOffset requestedAt, BroadcastMode mode = BroadcastMode.Broadcast)
    {
        var id = NewId.NextGuid();
        await Bus.Publish(new BroadcastRequested(id, TestTree.Root, mode, 2, 65536, "degraded-host", "host.degraded on vmm-0", requestedAt));
        await StateAsync(id, "ResolvingTree");
        return id;
    }

    /// <summary>One operation over <see cref="TestTree"/>, as the topology service and the agents would drive it.</summary>
    private async Task<Guid> RunToCompletionAsync(DateTimeOffset requestedAt)
    {
        var id = await TransferringAsync(requestedAt);
        foreach (var vmm in TestTree.Receivers)
        {
            await Bus.Publish(new TransferProgressed(id, vmm, TestTree.TotalBytes, TestTree.TotalBytes));
            await Bus.Publish(new VmsReceived(id, vmm, TestTree.Copies(VmState.Paused)));
        }

        await StateAsync(id, "Completed");
        return id;
    }

    private async Task<Guid> TransferringAsync(DateTimeOffset requestedAt, BroadcastMode mode = BroadcastMode.Broadcast)
    {
        var id = await RequestAsync(requestedAt, mode);
        await Bus.Publish(new TreeResolved(id, TestTree.Build()));
        await StateAsync(id, "Pausing");
        await Bus.Publish(new VmsPaused(id, TestTree.Root, TestTree.Vms));
        await StateAsync(id, "Announcing");
        foreach (var vmm in TestTree.Receivers)
        {
            await Bus.Publish(new ReadyToReceive(id, vmm));
        }

        await StateAsync(id, "Transferring");
        return id;
    }

    private IBus Bus => _host!.App.Services.GetRequiredService<IBus>();

    /// <summary>Waits, through the read model the endpoints use, until the operation is in <paramref name="state"/>.</summary>
    private async Task StateAsync(Guid id, string state)
    {
        var readModel = _host!.App.Services.GetRequiredService<IOperationReadModel>();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        BroadcastOperationState? operation;
        while ((operation = await readModel.FindAsync(id, CancellationToken.None))?.CurrentState != state)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromMinutes(1), $"operation {id} is {operation?.CurrentState ?? "unknown"}, never reached {state}");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits until the progress store holds reports of <paramref name="receivers"/> receivers of the operation.</summary>
    private async Task ReportedAsync(Guid id, int receivers)
    {
        var store = _host!.App.Services.GetRequiredService<IOperationProgressStore>();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while ((await store.ForOperationAsync(id, CancellationToken.None)).Count < receivers)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromMinutes(1), $"the progress of operation {id} was never recorded");
            await Task.Delay(20);
        }
    }

    private async Task<List<Guid>> IdsAsync(string path)
    {
        using var list = await GetJsonAsync(path);
        return list.RootElement.EnumerateArray().Select(o => o.GetProperty("id").GetGuid()).ToList();
    }

    private async Task<string> BadRequestAsync(string path)
    {
        using var response = await Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString()!;
    }

    private async Task<string> ConflictAsync(string path)
    {
        using var response = await Client.PostAsync(path, content: null);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString()!;
    }

    private async Task<JsonDocument> GetJsonAsync(string path) =>
        JsonDocument.Parse(await Client.GetStringAsync(path));
}
