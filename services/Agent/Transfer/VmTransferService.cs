using Grpc.Core;
using Microsoft.Extensions.Logging;
using Treecast.Agent.Transfer.Receiving;
using Treecast.Security;
using Treecast.Transfer.Protocol;

namespace Treecast.Agent.Transfer;

/// <summary>
/// The receiving end of a push over gRPC: reads the frames, hands them to the operation's <see cref="Receiver"/>, and is
/// the one place where what became of a frame (<see cref="ReceiveOutcome"/>) turns into a gRPC status. Over mutual TLS a
/// push is admitted only from the VMM its client certificate names; then the receiver checks that this VMM is the parent
/// the newest tree names and that the token is the announced one. Bound with <see cref="PushFrameMarshaller"/>, so a
/// chunk's bytes arrive in a pooled buffer, handed back once the chunk is stored.
/// </summary>
[BindServiceMethod(typeof(VmTransferService), nameof(BindService))]
public sealed class VmTransferService(TransferEngine engine, PushAuthentication authentication, ILogger<VmTransferService> logger) : VmTransfer.VmTransferBase
{
    /// <summary>
    /// The operation an agent's push to itself names when it warms its push path after start
    /// (<see cref="GrpcChannelPool.TryWarmPushAsync"/>): never announced, so always refused, and that refusal is not news
    /// (logged at debug level when it names this agent as sender and receiver; over mutual TLS only the holder of this
    /// agent's own key can name it as the sender).
    /// </summary>
    public static readonly string WarmUpOperationId = Guid.Empty.ToString();

    /// <summary>
    /// Called by Grpc.AspNetCore in place of the generated binding when the service is mapped; it finds the override of
    /// <see cref="VmTransfer.VmTransferBase.Push"/> by name (the parameter's type says which base declares it).
    /// </summary>
    public static void BindService(ServiceBinderBase binder, VmTransfer.VmTransferBase? service)
    {
        binder.AddMethod(PushFrameMarshaller.Push, (DuplexStreamingServerMethod<PushFrame, PushReply>?)null);
        binder.AddMethod(PushFrameMarshaller.Connect, (UnaryServerMethod<ConnectRequest, ConnectReply>?)null);
    }

    /// <summary>Nothing to do: the call's worth is the connection it leaves open (see <c>GrpcChannelPool.ConnectAheadAsync</c>).</summary>
    public override Task<ConnectReply> Connect(ConnectRequest request, ServerCallContext context) => Task.FromResult(new ConnectReply());

    public override async Task Push(IAsyncStreamReader<PushFrame> requestStream, IServerStreamWriter<PushReply> responseStream, ServerCallContext context)
    {
        if (!await requestStream.MoveNext(context.CancellationToken) || requestStream.Current.FrameCase != PushFrame.FrameOneofCase.Header)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "A push starts with a header frame (operation, token, sender, receiver)."));
        }

        var header = requestStream.Current.Header;
        if (authentication.ClientCertificate)
        {
            RequireSenderCertificate(header, context);
        }

        using var admission = await engine.AdmitAsync(header.OperationId, header.SenderVmmId, header.ReceiverVmmId, header.Token, (int)Math.Min(header.Stripe, int.MaxValue), context.CancellationToken);
        if (admission.Receiver is not { } receiver || !admission.Outcome.IsDone)
        {
            throw Answer(header, admission.Outcome);
        }

        var cancellationToken = admission.Token;
        var accepted = new Accepted();
        for (var vm = 0; vm < admission.ResumeOffsets.Count; vm++)
        {
            accepted.Resume.Add(new ResumePoint { VmIndex = (uint)vm, Offset = admission.ResumeOffsets[vm] });
        }

        await responseStream.WriteAsync(new PushReply { Accepted = accepted }, cancellationToken);
        if (receiver.Layout.IsStriped)
        {
            logger.LogInformation(
                "Receiving operation {OperationId} on {VmmId} from {SenderVmmId}, stripe {Stripe} of {Stripes} resuming at {StripeBytes} bytes ({BytesReceived} of {TotalBytes} bytes held in all)",
                receiver.OperationId, engine.VmmId, header.SenderVmmId, admission.Stripe, receiver.Layout.Stripes, admission.ResumeOffsets.Sum(), receiver.BytesReceived, receiver.TotalBytes);
        }
        else
        {
            logger.LogInformation(
                "Receiving operation {OperationId} on {VmmId} from {SenderVmmId}, resuming at {BytesReceived} of {TotalBytes} bytes",
                receiver.OperationId, engine.VmmId, header.SenderVmmId, receiver.BytesReceived, receiver.TotalBytes);
        }

        while (await requestStream.MoveNext(cancellationToken))
        {
            var frame = requestStream.Current;
            switch (frame.FrameCase)
            {
                case PushFrame.FrameOneofCase.Chunk:
                    var chunk = frame.Chunk;
                    ReceiveOutcome stored;
                    try
                    {
                        stored = await receiver.AppendAsync(admission.Stripe, chunk.VmIndex, chunk.Offset, chunk.Data.Memory, chunk.Xxhash3, cancellationToken);
                    }
                    finally
                    {
                        PushFrameMarshaller.Release(chunk);
                    }

                    if (!stored.IsDone)
                    {
                        throw Answer(header, stored);
                    }

                    break;
                case PushFrame.FrameOneofCase.VmEnd:
                    var end = frame.VmEnd;
                    var verified = await receiver.CompleteVmAsync(admission.Stripe, end.VmIndex, end.Bytes, end.Sha256, cancellationToken);
                    if (verified.Verified is not { } image)
                    {
                        throw Answer(header, verified);
                    }

                    await responseStream.WriteAsync(
                        new PushReply { Verified = new VmVerified { VmIndex = end.VmIndex, Bytes = image.Bytes, Sha256 = image.Sha256 } },
                        cancellationToken);
                    break;
                default:
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"Operation {header.OperationId}: only chunks and VM ends may follow the header."));
            }
        }
    }

    /// <summary>A stolen token alone is worth nothing: the header's sender must be who the TLS handshake proved.</summary>
    private void RequireSenderCertificate(PushHeader header, ServerCallContext context)
    {
        var presented = context.GetHttpContext().Connection.ClientCertificate is { } certificate ? VmmCertificateName.VmmIdOf(certificate) : null;
        if (presented == header.SenderVmmId)
        {
            return;
        }

        var reason = $"the client certificate names {presented ?? "no VMM"}, the push claims to come from {header.SenderVmmId}";
        logger.LogWarning(
            "Refused push of operation {OperationId} from {SenderVmmId} to {VmmId}: {Reason}",
            header.OperationId, header.SenderVmmId, engine.VmmId, reason);
        throw new RpcException(new Status(
            StatusCode.PermissionDenied,
            $"Push of operation {header.OperationId} from {header.SenderVmmId} refused by {engine.VmmId}: {reason}."));
    }

    private RpcException Answer(PushHeader header, ReceiveOutcome outcome)
    {
        if (outcome.Verdict == ReceiveVerdict.Refused)
        {
            var warmUp = header.OperationId == WarmUpOperationId && header.SenderVmmId == engine.VmmId && header.ReceiverVmmId == engine.VmmId;
            logger.Log(
                warmUp ? LogLevel.Debug : LogLevel.Warning,
                "Refused push of operation {OperationId} from {SenderVmmId} to {VmmId}: {Reason}",
                header.OperationId, header.SenderVmmId, engine.VmmId, outcome.Reason);
            return new RpcException(new Status(
                StatusCode.PermissionDenied,
                $"Push of operation {header.OperationId} from {header.SenderVmmId} refused by {engine.VmmId}: {outcome.Reason}."));
        }

        var status = outcome.Verdict switch
        {
            ReceiveVerdict.Failed => StatusCode.Aborted,
            ReceiveVerdict.Malformed => StatusCode.InvalidArgument,
            ReceiveVerdict.Ahead => StatusCode.FailedPrecondition,
            ReceiveVerdict.Lost => StatusCode.DataLoss,

            // Transient for the sender: it reconnects and resends from the committed offset.
            ReceiveVerdict.Garbled => StatusCode.Unavailable,
            _ => StatusCode.Internal,
        };
        return new RpcException(new Status(status, $"Operation {header.OperationId} on {engine.VmmId}: {outcome.Reason}."));
    }
}
