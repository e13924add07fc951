using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Treecast.Transfer.Protocol;

namespace Treecast.Agent.Transfer;

/// <summary>
/// The receiving end of a push: admits only the announced parent with the announced token, stores chunks
/// in order into the operation's spools, and verifies every image before the VMM adopts it.
/// </summary>
public sealed class VmTransferService(TransferEngine engine, ILogger<VmTransferService> logger) : VmTransfer.VmTransferBase
{
    public override async Task Push(IAsyncStreamReader<PushFrame> requestStream, IServerStreamWriter<PushReply> responseStream, ServerCallContext context)
    {
        if (!await requestStream.MoveNext(context.CancellationToken) || requestStream.Current.FrameCase != PushFrame.FrameOneofCase.Header)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "A push starts with a header frame (operation, token, sender, receiver)."));
        }

        var header = requestStream.Current.Header;
        var transfer = Admit(header);
        using var lease = await transfer.AcquireReceiveAsync(context.CancellationToken);
        var cancellationToken = lease.Token;
        if (transfer.FailureReason is { } failed)
        {
            throw new RpcException(new Status(StatusCode.Aborted, $"Operation {transfer.OperationId} already failed on {engine.VmmId}: {failed}"));
        }

        var accepted = new Accepted();
        foreach (var spool in transfer.Spools)
        {
            accepted.Resume.Add(new ResumePoint { VmIndex = (uint)spool.VmIndex, Offset = spool.CommittedLength });
        }

        await responseStream.WriteAsync(new PushReply { Accepted = accepted }, cancellationToken);
        logger.LogInformation(
            "Receiving operation {OperationId} on {VmmId} from {SenderVmmId}, resuming at {BytesReceived} of {TotalBytes} bytes",
            transfer.OperationId, engine.VmmId, header.SenderVmmId, transfer.BytesReceived, transfer.TotalBytes);
        // Pipelined: the children are fed from the spools while the parent is still sending.
        engine.StartRelay(transfer);

        while (await requestStream.MoveNext(cancellationToken))
        {
            var frame = requestStream.Current;
            switch (frame.FrameCase)
            {
                case PushFrame.FrameOneofCase.Chunk:
                    await ReceiveChunkAsync(transfer, frame.Chunk, cancellationToken);
                    break;
                case PushFrame.FrameOneofCase.VmEnd:
                    await ReceiveVmEndAsync(transfer, frame.VmEnd, responseStream, cancellationToken);
                    break;
                default:
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"Operation {transfer.OperationId}: only chunks and VM ends may follow the header."));
            }
        }
    }

    private ExpectedTransfer Admit(PushHeader header)
    {
        if (!Guid.TryParse(header.OperationId, out var operationId) || !engine.TryGetExpected(operationId, out var transfer))
        {
            throw Refuse(header, $"operation {header.OperationId} was not announced to {engine.VmmId}");
        }

        if (header.ReceiverVmmId != engine.VmmId)
        {
            throw Refuse(header, $"the push is addressed to {header.ReceiverVmmId}, this agent is {engine.VmmId}");
        }

        if (header.SenderVmmId != transfer.ParentVmmId)
        {
            throw Refuse(header, $"the announced tree names {transfer.ParentVmmId} as the parent of {engine.VmmId}");
        }

        var presented = Encoding.UTF8.GetBytes(header.Token);
        var announced = Encoding.UTF8.GetBytes(transfer.Announcement.Token);
        if (!CryptographicOperations.FixedTimeEquals(presented, announced))
        {
            throw Refuse(header, "the token does not match the announcement");
        }

        return transfer;
    }

    private RpcException Refuse(PushHeader header, string reason)
    {
        logger.LogWarning(
            "Refused push of operation {OperationId} from {SenderVmmId} to {VmmId}: {Reason}",
            header.OperationId, header.SenderVmmId, engine.VmmId, reason);
        return new RpcException(new Status(
            StatusCode.PermissionDenied,
            $"Push of operation {header.OperationId} from {header.SenderVmmId} refused by {engine.VmmId}: {reason}."));
    }

    private async Task ReceiveChunkAsync(ExpectedTransfer transfer, Chunk chunk, CancellationToken cancellationToken)
    {
        if (chunk.VmIndex >= transfer.Spools.Count)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"Operation {transfer.OperationId}: VM index {chunk.VmIndex} is not in the manifest of {transfer.Spools.Count} VMs."));
        }

        var spool = transfer.Spools[(int)chunk.VmIndex];
        var data = chunk.Data.Memory;
        var committed = spool.CommittedLength;
        if (chunk.Offset > committed)
        {
            throw new RpcException(new Status(
                StatusCode.FailedPrecondition,
                $"Operation {transfer.OperationId}, VM {spool.Image.VmId}: chunk at offset {chunk.Offset}, {engine.VmmId} holds {committed} bytes; resume from there."));
        }

        if (chunk.Offset + data.Length <= committed || spool.IsCompleted)
        {
            return; // A resent chunk this agent already holds.
        }

        if (XxHash3.HashToUInt64(data.Span) != chunk.Xxhash3)
        {
            throw await DataLossAsync(transfer, $"VM {spool.Image.VmId}: the chunk at offset {chunk.Offset} ({data.Length} bytes) does not match its XxHash3");
        }

        try
        {
            await spool.AppendAsync(data[(int)(committed - chunk.Offset)..], cancellationToken);
        }
        catch (InvalidDataException e)
        {
            throw await DataLossAsync(transfer, e.Message);
        }

        engine.ReportProgress(transfer);
    }

    private async Task ReceiveVmEndAsync(ExpectedTransfer transfer, VmEnd end, IServerStreamWriter<PushReply> responseStream, CancellationToken cancellationToken)
    {
        if (end.VmIndex >= transfer.Spools.Count)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"Operation {transfer.OperationId}: VM index {end.VmIndex} is not in the manifest of {transfer.Spools.Count} VMs."));
        }

        var spool = transfer.Spools[(int)end.VmIndex];
        var mismatch = await spool.CompleteAsync(end.Bytes, end.Sha256, cancellationToken);
        if (mismatch is not null)
        {
            throw await DataLossAsync(transfer, mismatch);
        }

        await responseStream.WriteAsync(new PushReply
        {
            Verified = new VmVerified { VmIndex = end.VmIndex, Bytes = spool.CommittedLength, Sha256 = spool.Sha256 },
        }, cancellationToken);

        if (transfer.AllVerified)
        {
            await engine.CompleteReceiveAsync(transfer, cancellationToken);
        }
    }

    private async Task<RpcException> DataLossAsync(ExpectedTransfer transfer, string reason)
    {
        await engine.FailReceiveAsync(transfer, reason);
        return new RpcException(new Status(StatusCode.DataLoss, $"Operation {transfer.OperationId} on {engine.VmmId}: {reason}."));
    }
}
