using Grpc.Core;
using Treecast.Agent.Tests.Support;
using Treecast.Contracts;
using Treecast.Transfer.Protocol;

namespace Treecast.Agent.Tests.Transfer;

public sealed class PushAdmissionTests : IAsyncLifetime
{
    private readonly TransferCluster _cluster = new();
    private readonly Guid _operationId = Guid.NewGuid();
    private PendingTransferAnnounced _announced = null!;

    public async Task InitializeAsync()
    {
        await _cluster.AddAsync("root", null, [("root-vm-0", 200_000)]);
        await _cluster.AddAsync("child", "root");
        await _cluster.AddAsync("grandchild", "child");
        _announced = _cluster.Announce(_operationId);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_wrong_token_is_refused_with_permission_denied()
    {
        var refusal = await Assert.ThrowsAsync<RpcException>(() => PushHeaderAsync("child", Header(token: "not-the-token")));

        Assert.Equal(StatusCode.PermissionDenied, refusal.StatusCode);
        Assert.Contains("token", refusal.Status.Detail);
        Assert.Contains(_operationId.ToString(), refusal.Status.Detail);
    }

    [Fact]
    public async Task A_sender_other_than_the_announced_parent_is_refused()
    {
        var refusal = await Assert.ThrowsAsync<RpcException>(() => PushHeaderAsync("grandchild", Header(sender: "root", receiver: "grandchild")));

        Assert.Equal(StatusCode.PermissionDenied, refusal.StatusCode);
        Assert.Contains("root", refusal.Status.Detail);
        Assert.Contains("child as the parent", refusal.Status.Detail);
    }

    [Fact]
    public async Task An_unannounced_operation_is_refused()
    {
        var unknown = Guid.NewGuid();
        var refusal = await Assert.ThrowsAsync<RpcException>(() => PushHeaderAsync("child", Header(operationId: unknown)));

        Assert.Equal(StatusCode.PermissionDenied, refusal.StatusCode);
        Assert.Contains(unknown.ToString(), refusal.Status.Detail);
        Assert.Contains("not announced", refusal.Status.Detail);
    }

    [Fact]
    public async Task After_a_failed_receive_the_operation_is_not_accepted_again()
    {
        var child = _cluster["child"];
        Assert.True(child.Engine.TryGetReceiver(_operationId, out var transfer));
        await transfer.FailAsync("disk full");

        var refusal = await Assert.ThrowsAsync<RpcException>(() => PushHeaderAsync("child", Header()));

        Assert.Equal(StatusCode.Aborted, refusal.StatusCode);
        Assert.Contains("disk full", refusal.Status.Detail);
    }

    private PushHeader Header(Guid? operationId = null, string? token = null, string sender = "root", string receiver = "child") => new()
    {
        OperationId = (operationId ?? _operationId).ToString(),
        Token = token ?? _announced.Token,
        SenderVmmId = sender,
        ReceiverVmmId = receiver,
    };

    private async Task PushHeaderAsync(string vmmId, PushHeader header)
    {
        using var call = new VmTransfer.VmTransferClient(_cluster.Channel("root", vmmId)).Push();
        await call.RequestStream.WriteAsync(new PushFrame { Header = header });
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
        }
    }
}
