using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Treecast.Contracts;
using Treecast.Fault.Tests.Fleet;
using Treecast.Security;
using Treecast.Transfer.Protocol;
using Xunit.Abstractions;

namespace Treecast.Fault.Tests.Scenarios;

/// <summary>
/// Every fault of issue 7, injected into real service processes on a real broker, one operation each, in a fixed
/// order (<see cref="ScenarioOrderer"/>) so each starts from a whole fleet. Run once per store by the classes below.
/// Each scenario checks what an operator would: every live VMM holds copies with the root's digests, the failed ones
/// are named with a reason, and no completed workload was duplicated.
/// </summary>
public abstract class FaultScenarios(FaultFleet fleet, FaultFigures figures, ITestOutputHelper output)
{
    [SkippableFact]
    [Scenario(1)]
    public async Task Should_repair_the_tree_inside_the_operation_when_a_relay_is_killed()
    {
        fleet.Require();
        var operation = await StartAsync();
        var tree = await AnnouncedTreeAsync(operation);
        var relay = tree.Nodes.First(n => n.ParentVmmId == FaultFleet.Root && tree.ChildrenOf(n.VmmId).Any()).VmmId;
        var orphans = tree.ChildrenOf(relay).Select(n => n.VmmId).ToList();

        await fleet.ThirdReceivedAsync(operation, relay);
        await fleet.KillAgentAsync(relay);
        figures.Fault();
        var heldAtKill = orphans.ToDictionary(o => o, o => fleet.Observer.Seen<TransferProgressed>()
            .Where(p => p.OperationId == operation && p.VmmId == o).Select(p => p.BytesReceived).DefaultIfEmpty().Max());
        var finished = await fleet.FinishedAsync(operation);

        Expect(finished, OperationFinalState.CompletedWithFailures, failed: [relay]);
        Assert.Contains(relay, finished.FailureReason, StringComparison.Ordinal);
        var repaired = fleet.Observer.Seen<TreeRepaired>().Where(r => r.OperationId == operation).MaxBy(r => r.Tree.Version);
        Assert.NotNull(repaired);
        Assert.All(orphans, o => Assert.NotEqual(relay, repaired.Tree.Find(o)?.ParentVmmId));
        output.WriteLine($"{relay} killed; {string.Join(", ", orphans)} re-parented in tree v{repaired.Tree.Version}");
        foreach (var orphan in orphans)
        {
            // What the orphan held when its parent died (its last report, a lower bound) against where its new parent
            // resumed it (the agent logs "resuming at N of M bytes" when it admits a stream): the bytes fetched twice.
            var resumed = fleet.AgentLinesWith(orphan, $"Receiving operation {operation}").LastOrDefault();
            output.WriteLine($"{orphan}: held at least {heldAtKill[orphan]} bytes when {relay} was killed; {resumed ?? "(resume line not kept)"}");
        }

        // The relay comes back with the same id: it finds the ended operation's partial copy and is told to drop it.
        var restartedAt = DateTimeOffset.UtcNow;
        fleet.RestartAgent(relay);
        await fleet.Observer.WaitFor<TransferCancelled>(c => c.OperationId == operation && c.VmmId == relay, TimeSpan.FromMinutes(2));
        await WaitUntilAsync(() => !HoldsFilesOf(relay, operation), $"{relay} still holds files of operation {operation}");
        await fleet.Observer.WaitForRegistrationsAsync([relay], TimeSpan.FromMinutes(1));
        Assert.True(DateTimeOffset.UtcNow >= restartedAt);
    }

    [SkippableFact]
    [Scenario(2)]
    public async Task Should_resume_a_receive_when_an_agent_restarts_mid_transfer()
    {
        fleet.Require();
        const string Leaf = "host-06";
        var operation = await StartAsync();

        await fleet.ThirdReceivedAsync(operation, Leaf);
        await fleet.KillAgentAsync(Leaf);
        figures.Fault();
        fleet.RestartAgent(Leaf);
        var resumed = await fleet.Observer.WaitFor<ReceiveResumed>(r => r.OperationId == operation && r.VmmId == Leaf, TimeSpan.FromMinutes(2));
        var finished = await fleet.FinishedAsync(operation);

        Expect(finished, OperationFinalState.Completed, failed: []);
        Assert.True(resumed.BytesHeld > 0, $"{Leaf} came back holding nothing: it would start from zero");
        output.WriteLine($"{Leaf} restarted holding {resumed.BytesHeld} bytes");
    }

    [SkippableFact]
    [Scenario(3)]
    public async Task Should_complete_when_the_broker_stops_and_starts_mid_transfer()
    {
        fleet.Require();
        var operation = await StartAsync();

        await fleet.ThirdReceivedAsync(operation, "host-04");
        await fleet.Broker.StopBrokerAsync();
        figures.Fault();
        // The outage itself, not a wait for an outcome: the agents keep streaming over gRPC meanwhile.
        await Task.Delay(TimeSpan.FromSeconds(5));
        await fleet.Broker.StartBrokerAsync();
        var finished = await fleet.FinishedAsync(operation);

        Expect(finished, OperationFinalState.Completed, failed: []);
    }

    [SkippableFact]
    [Scenario(4)]
    public async Task Should_answer_a_redelivered_request_after_the_policy_service_restarts()
    {
        fleet.Require();
        var eventId = NewEventId();
        var operation = await StartAsync(eventId);

        await fleet.ThirdReceivedAsync(operation, "host-02");
        await fleet.KillPolicyAsync();
        figures.Fault();
        fleet.StartPolicy();
        // Monitoring repeats the event (its own retry), on top of RabbitMQ redelivering what was in flight.
        await fleet.PublishDegradedAsync(eventId);
        var finished = await fleet.FinishedAsync(operation);

        Expect(finished, OperationFinalState.Completed, failed: []);
        Assert.All(
            fleet.Observer.Seen<BroadcastRequested>().Where(r => r.Reason.Contains(eventId, StringComparison.Ordinal)),
            r => Assert.Equal(operation, r.OperationId));
    }

    [SkippableFact]
    [Scenario(5)]
    public async Task Should_fetch_again_a_chunk_corrupted_on_the_wire()
    {
        fleet.Require();
        var proxy = fleet.Proxy!;
        var before = proxy.Corrupted;
        proxy.CorruptAfter(FaultFleet.ImageMiB * 1024L * 1024 / 3);
        var operation = await StartAsync();
        figures.Fault();
        var finished = await fleet.FinishedAsync(operation);

        Assert.Equal(before + 1, proxy.Corrupted);
        Expect(finished, OperationFinalState.Completed, failed: []);
    }

    [SkippableFact]
    [Scenario(6)]
    public async Task Should_refuse_a_push_from_an_agent_that_is_not_the_parent()
    {
        fleet.Require();
        var operation = await StartAsync();
        var tree = await AnnouncedTreeAsync(operation);
        var announcement = await fleet.Observer.WaitFor<PendingTransferAnnounced>(a => a.OperationId == operation, TimeSpan.FromMinutes(2));
        var target = tree.Nodes.First(n => n.ParentVmmId is { } p && p != FaultFleet.Root);
        var impostor = tree.Nodes.First(n => n.VmmId != target.VmmId && n.VmmId != target.ParentVmmId && n.VmmId != FaultFleet.Root);

        // The target must hold the announcement before it can say who its parent is; until then it refuses any push as
        // "not announced" (seeing the announcement published is not the target having handled it).
        await fleet.Observer.WaitFor<ReadyToReceive>(r => r.OperationId == operation && r.VmmId == target.VmmId, TimeSpan.FromMinutes(2));

        // An agent of the fleet that got hold of the real token (the test reads it off the agents' exchanges) pushes over TLS with its own valid certificate: claiming
        // to be the parent it is refused for the certificate, claiming to be itself for the tree.
        using var channel = AsAgent(fleet.CredentialsOf(impostor.VmmId), target);
        var asTheParent = await RefusedPushAsync(channel, operation, announcement.Token, target.ParentVmmId!, target.VmmId);
        var asItself = await RefusedPushAsync(channel, operation, announcement.Token, impostor.VmmId, target.VmmId);
        figures.Fault();
        var finished = await fleet.FinishedAsync(operation);

        Assert.Equal(StatusCode.PermissionDenied, asTheParent.StatusCode);
        Assert.Contains($"the client certificate names {impostor.VmmId}, the push claims to come from {target.ParentVmmId}", asTheParent.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.PermissionDenied, asItself.StatusCode);
        Assert.Contains($"names {target.ParentVmmId} as the parent of {target.VmmId}", asItself.Status.Detail, StringComparison.Ordinal);
        Expect(finished, OperationFinalState.Completed, failed: []);
    }

    [SkippableFact]
    [Scenario(7)]
    public async Task Should_cancel_mid_transfer_run_the_root_again_and_delete_partial_copies()
    {
        fleet.Require();
        var operation = await StartAsync();
        var tree = await AnnouncedTreeAsync(operation);

        await fleet.ThirdReceivedAsync(operation, "host-04");
        using var answer = await fleet.CancelAsync(operation, "fault-suite", "operator changed their mind");
        figures.Fault();
        var finished = await fleet.FinishedAsync(operation);

        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        Assert.Equal(OperationFinalState.Cancelled, finished.State);
        Assert.Contains("fault-suite", finished.FailureReason, StringComparison.Ordinal);
        var rootResumed = await fleet.Observer.WaitFor<VmsResumed>(r => r.OperationId == operation && r.VmmId == FaultFleet.Root, TimeSpan.FromMinutes(1));
        Assert.All(rootResumed.Vms, vm => Assert.Equal(VmState.Running, vm.State));
        foreach (var receiver in tree.Nodes.Where(n => n.VmmId != FaultFleet.Root))
        {
            await fleet.Observer.WaitFor<TransferCancelled>(c => c.OperationId == operation && c.VmmId == receiver.VmmId, TimeSpan.FromMinutes(1));
            await WaitUntilAsync(() => !HoldsFilesOf(receiver.VmmId, operation), $"{receiver.VmmId} still holds files of the cancelled operation");
        }

        figures.Completed();
    }

    [SkippableFact]
    [Scenario(8)]
    public async Task Should_duplicate_only_the_workload_that_missed_its_deadline()
    {
        fleet.Require();
        const int Pairs = 200;
        var run = Guid.NewGuid().ToString("N")[..8];
        var completedInTime = Enumerable.Range(0, Pairs).Select(i => $"job-{run}-{i}").ToList();
        // Back to back, and a quarter of the completions overtake their start: monitoring systems do not promise an order.
        await fleet.Observer.PublishExternalJsonAsync(completedInTime.SelectMany((id, i) => i % 4 == 0
            ? new[] { Workload("workload.completed", id), Workload("workload.started", id) }
            : [Workload("workload.started", id), Workload("workload.completed", id)]));

        var straggler = $"straggler-{run}";
        await fleet.Observer.PublishExternalJsonAsync(Workload("workload.started", straggler));
        var duplication = await fleet.Observer.WaitFor<BroadcastRequested>(
            r => r.Mode == BroadcastMode.Duplicate && r.Reason.Contains(straggler, StringComparison.Ordinal),
            TimeSpan.FromMinutes(3));
        figures.Operation();
        var finished = await fleet.FinishedAsync(duplication.OperationId);

        // The straggler's deadline (published last) has passed, so every earlier watch has decided by now.
        var wrong = fleet.Observer.Seen<BroadcastRequested>()
            .Count(r => r.Mode == BroadcastMode.Duplicate && completedInTime.Any(id => r.Reason.Contains(id + " ", StringComparison.Ordinal)));
        var straggled = fleet.Observer.Seen<BroadcastRequested>()
            .Where(r => r.Mode == BroadcastMode.Duplicate && r.Reason.Contains(straggler, StringComparison.Ordinal))
            .Select(r => r.OperationId)
            .Distinct()
            .Count();
        figures.WrongDuplications(wrong + (straggled - 1));
        Assert.Equal(0, wrong);
        Assert.Equal(1, straggled);
        Expect(finished, OperationFinalState.Duplicated, failed: [], counted: false);
        figures.Completed();
    }

    [SkippableFact]
    [Scenario(9)]
    public async Task Should_move_every_malformed_event_to_the_error_queue_and_handle_every_good_one()
    {
        fleet.Require();
        const int Malformed = 2000;
        const int Good = 50;
        const string ErrorQueue = Addresses.PolicyExternalEventsQueue + "_error";
        var run = Guid.NewGuid().ToString("N")[..8];
        string[] broken =
        [
            """{"type":"host.degraded","vmm":""",
            """{"type":"host.exploded","vmm":"host-01"}""",
            """{"type":"workload.completed","vmm":"host-01"}""",
            """{"type":"host.degraded"}""",
            "not json at all",
        ];
        var good = Enumerable.Range(0, Good).Select(i => $"flood-{run}-{i}").ToList();
        var errorsBefore = await ErrorDepthAsync(ErrorQueue);

        // Every 40th event is a good one, among a flood of bad ones.
        await fleet.Observer.PublishExternalJsonAsync(Enumerable.Range(0, Malformed).SelectMany(i =>
            i % (Malformed / Good) == 0
                ? new[] { Workload("workload.completed", good[i / (Malformed / Good)]), broken[i % broken.Length] }
                : [broken[i % broken.Length]]));
        figures.Fault();

        foreach (var workload in good)
        {
            await fleet.Observer.WaitFor<WorkloadCompleted>(c => c.WorkloadId == workload, TimeSpan.FromMinutes(3));
        }

        await WaitUntilAsync(
            async () => await ErrorDepthAsync(ErrorQueue) >= errorsBefore + Malformed,
            $"fewer than {Malformed} malformed events reached {ErrorQueue}");
        Assert.Equal(errorsBefore + Malformed, await ErrorDepthAsync(ErrorQueue));
        Assert.True(fleet.AllRunning, $"a service stopped under the flood\n{fleet.Logs()}");
    }

    [SkippableFact]
    [Scenario(10)]
    public async Task Should_repair_a_stripes_tree_when_its_relay_is_killed_in_a_striped_broadcast()
    {
        fleet.Require();
        var operation = await StartAsync(striped: true);
        var tree = await AnnouncedTreeAsync(operation);
        Assert.Equal(2, tree.Stripes);
        // A host that relays stripe 1 (interior in stripe 1's tree only): the hosts below it lose stripe 1 alone.
        var relay = tree.Nodes.FirstOrDefault(n => n.VmmId != FaultFleet.Root && tree.ChildrenOf(n.VmmId, 1).Any())?.VmmId;
        Assert.True(relay is not null, "no host but the root relays stripe 1 of the striped tree");
        var fed = tree.ChildrenOf(relay, 1).Select(n => n.VmmId).ToList();

        await fleet.ThirdReceivedAsync(operation, relay);
        await fleet.KillAgentAsync(relay);
        figures.Fault();

        // Mid-receive, each host below it spools stripe 1 apart from stripe 0: the agents stripe, not only topology.
        Assert.All(fed, f => Assert.True(
            StripeSpoolsOf(f, operation).Any(p => p.EndsWith(".stripe01.img", StringComparison.Ordinal)),
            $"{f} holds no spool of stripe 1 of operation {operation}"));
        var finished = await fleet.FinishedAsync(operation);

        Expect(finished, OperationFinalState.CompletedWithFailures, failed: [relay]);
        var repaired = fleet.Observer.Seen<TreeRepaired>().Where(r => r.OperationId == operation).MaxBy(r => r.Tree.Version);
        Assert.NotNull(repaired);
        Assert.Equal(2, repaired.Tree.Stripes);
        Assert.All(fed, f => Assert.NotEqual(relay, repaired.Tree.ParentOf(f, 1)));
        foreach (var host in fed)
        {
            // Its stream of stripe 1 resumed from its new parent where the killed relay had left it.
            var resumed = fleet.AgentLinesWith(host, $"Receiving operation {operation}").LastOrDefault();
            output.WriteLine($"{host}: stripe 1 from {repaired.Tree.ParentOf(host, 1)} after {relay} was killed; {resumed ?? "(resume line not kept)"}");
        }

        fleet.RestartAgent(relay);
        await fleet.Observer.WaitFor<TransferCancelled>(c => c.OperationId == operation && c.VmmId == relay, TimeSpan.FromMinutes(2));
        await WaitUntilAsync(() => !HoldsFilesOf(relay, operation), $"{relay} still holds files of operation {operation}");
        await fleet.Observer.WaitForRegistrationsAsync([relay], TimeSpan.FromMinutes(1));
    }

    private async Task<uint> ErrorDepthAsync(string queue)
    {
        try
        {
            return await fleet.Observer.QueueDepthAsync(queue);
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return 0; // No error queue yet: nothing has faulted on that endpoint so far.
        }
    }

    /// <summary>A channel to <paramref name="target"/> as the agent holding <paramref name="credentials"/> opens it: mutual TLS, the target's certificate checked.</summary>
    private static GrpcChannel AsAgent(AgentCredentials credentials, TreeNode target) =>
        GrpcChannel.ForAddress(target.GrpcEndpoint, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                SslOptions = new SslClientAuthenticationOptions
                {
                    ClientCertificates = [credentials.Certificate],
                    LocalCertificateSelectionCallback = (_, _, _, _, _) => credentials.Certificate,
                    RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                        certificate is not null && credentials.Trust.Check(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), PeerRole.Server).VmmId == target.VmmId,
                },
            },
            DisposeHttpClient = true,
        });

    private static async Task<RpcException> RefusedPushAsync(GrpcChannel channel, Guid operation, string token, string sender, string receiver)
    {
        using var call = new VmTransfer.VmTransferClient(channel).Push();
        await call.RequestStream.WriteAsync(new PushFrame
        {
            Header = new PushHeader { OperationId = operation.ToString(), Token = token, SenderVmmId = sender, ReceiverVmmId = receiver },
        });
        return await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        });
    }

    private static string Workload(string type, string workloadId) =>
        $$"""{"type":"{{type}}","vmm":"{{FaultFleet.Root}}","workloadId":"{{workloadId}}"}""";

    private static string NewEventId() => $"fault-{Guid.NewGuid():N}";

    private async Task<Guid> StartAsync(string? eventId = null, bool striped = false)
    {
        var requested = await fleet.StartBroadcastAsync(eventId ?? NewEventId(), striped);
        figures.Operation();
        return requested.OperationId;
    }

    /// <summary>The whole tree the operation was first announced with (each agent hears only its slice of it).</summary>
    private async Task<VmmTree> AnnouncedTreeAsync(Guid operation) =>
        (await fleet.Observer.WaitFor<TreeResolved>(r => r.OperationId == operation, TimeSpan.FromMinutes(2))).Tree;

    /// <summary>
    /// The operation ended as the scenario requires; every VMM not named failed holds a copy of every VM with the
    /// root's digest, and every failed one carries a reason. Counts into the suite's figures.
    /// </summary>
    private void Expect(BroadcastOperationFinished finished, OperationFinalState state, IReadOnlyCollection<string> failed, bool counted = true)
    {
        var corrupt = 0;
        var verified = 0;
        foreach (var host in finished.Hosts.Where(h => !failed.Contains(h.VmmId)))
        {
            foreach (var vm in finished.Vms)
            {
                var copy = host.Vms.FirstOrDefault(c => c.VmId == vm.VmId);
                if (copy is not null && string.Equals(copy.Sha256, vm.Sha256, StringComparison.OrdinalIgnoreCase))
                {
                    verified++;
                }
                else if (copy is not null)
                {
                    corrupt++;
                }
            }
        }

        figures.Verified(verified);
        figures.Corrupt(corrupt);
        Assert.True(finished.State == state, $"{finished.State} (expected {state}): {finished.FailureReason}\n{fleet.Logs()}");
        if (counted)
        {
            figures.Completed();
        }

        Assert.Equal(0, corrupt);
        var holding = finished.Hosts.Count(h => !failed.Contains(h.VmmId) && h.Vms.Count == finished.Vms.Count);
        Assert.True(
            holding == FaultFleet.Agents.Length - failed.Count,
            $"{holding} VMMs hold every one of the {finished.Vms.Count} VMs, expected {FaultFleet.Agents.Length - failed.Count}: "
                + string.Join(", ", finished.Hosts.Select(h => $"{h.VmmId} holds {h.Vms.Count}"))
                + $" (tree over {finished.Tree?.Nodes.Count ?? 0} VMMs)\n{fleet.Logs()}");
        Assert.All(failed, vmm => Assert.Empty(finished.Hosts.Single(h => h.VmmId == vmm).Vms));
        output.WriteLine($"{fleet.Stores}: operation {finished.OperationId} {finished.State}; {verified} copies verified; {finished.FailureReason}");
    }

    /// <summary>True while anything in the agent's work directory is named after the operation.</summary>
    private List<string> StripeSpoolsOf(string vmmId, Guid operation)
    {
        var directory = fleet.WorkDirectory(vmmId);
        return Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "*.stripe*.img", SearchOption.AllDirectories)
                .Where(p => p.Contains(operation.ToString("N"), StringComparison.OrdinalIgnoreCase))
                .ToList()
            : [];
    }

    private bool HoldsFilesOf(string vmmId, Guid operation)
    {
        var directory = fleet.WorkDirectory(vmmId);
        return Directory.Exists(directory)
            && Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories)
                .Any(p => p.Contains(operation.ToString("N"), StringComparison.OrdinalIgnoreCase)
                    || p.Contains(operation.ToString(), StringComparison.OrdinalIgnoreCase));
    }

    private Task WaitUntilAsync(Func<bool> condition, string failure) => WaitUntilAsync(() => Task.FromResult(condition()), failure);

    private async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{failure}\n{fleet.Logs()}");
            }

            await Task.Delay(100);
        }
    }
}
