using System.Diagnostics;
using System.IO.Hashing;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Treecast.Hosting.Telemetry;
using Treecast.Transfer.Protocol;

namespace Treecast.Agent.Transfer;

/// <summary>
/// Pushes one operation's VM images to ONE child over a gRPC stream, resuming where the child's stored bytes
/// end when the stream breaks. Each child has its own forwarder reading its own sources at its own pace.
/// </summary>
public sealed class ChunkForwarder(
    ForwardTarget target,
    IReadOnlyList<ImageSource> sources,
    GrpcChannel channel,
    ILogger<ChunkForwarder> logger,
    TimeProvider timeProvider)
{
    public static IReadOnlyList<TimeSpan> DefaultRetryDelays { get; } =
        [TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];

    /// <summary>Waits between attempts after a broken stream, longer each time; the last one repeats.</summary>
    public IReadOnlyList<TimeSpan> RetryDelays { get; init; } = DefaultRetryDelays;

    /// <summary>
    /// How long the child may stay unreachable (every attempt broken or refused with no byte delivered) before the push
    /// fails for good: a restarted child or a parent not yet known to it comes back within it.
    /// </summary>
    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The run to the child this forwarder sends for: it keeps within a window of its siblings (the same parent's other
    /// children) in the run's <see cref="ChildFeed.Pace"/>, where <see cref="Forwarding"/> put the run before this
    /// forwarder existed and takes it out when the run ends; null: no pace.
    /// </summary>
    public ChildFeed? Feed { get; init; }

    /// <summary>How long a child may take to answer a push's header: the grace period, at most 10 s.</summary>
    private TimeSpan AnswerWithin => GracePeriod < TimeSpan.FromSeconds(10) ? GracePeriod : TimeSpan.FromSeconds(10);

    /// <summary>The agent's send limit, shared by all its forwarders.</summary>
    public SendRateLimit RateLimit { get; init; } = SendRateLimit.None;

    /// <summary>Bytes actually sent (a resumed stream skips what the child already holds).</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    private long _bytesSent;
    private int _vmIndex;
    private long _offset;

    // Bytes of the VMs before the one being sent: with the offset, this forwarder's position for the pace.
    private long _base;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (sources.Count != target.Vms.Count)
        {
            throw new ArgumentException($"{sources.Count} sources for {target.Vms.Count} VMs.", nameof(sources));
        }

        var chunkSize = TransferLimits.ClampChunkSize(target.ChunkSizeBytes);
        // Two buffers: the next chunk is read while the previous one is being written to the child.
        byte[][] buffers = [GC.AllocateUninitializedArray<byte>(chunkSize), GC.AllocateUninitializedArray<byte>(chunkSize)];
        var started = Stopwatch.GetTimestamp();
        logger.LogInformation(
            "Forwarding operation {OperationId} (stripe {Stripe}) to {ChildVmmId} at {Endpoint}: {VmCount} VMs, {TotalBytes} bytes in chunks of {ChunkSizeBytes}",
            target.OperationId, target.Stripe, target.Child.VmmId, target.Child.GrpcEndpoint, target.Vms.Count, target.Vms.All(v => v.IsSealed) ? target.Vms.Sum(v => v.Bytes) : -1, chunkSize);

        var attempt = 0;
        var unreachableSince = timeProvider.GetTimestamp();
        while (true)
        {
            var sentBefore = BytesSent;
            try
            {
                await PushOnceAsync(buffers, cancellationToken);
                var elapsed = Stopwatch.GetElapsedTime(started);
                logger.LogInformation(
                    "Forwarded operation {OperationId} to {ChildVmmId}: {BytesSent} bytes sent in {ElapsedMs} ms ({MiBPerSecond:F0} MiB/s)",
                    target.OperationId, target.Child.VmmId, BytesSent, (long)elapsed.TotalMilliseconds, BytesSent / 1048576.0 / Math.Max(elapsed.TotalSeconds, 1e-6));
                return;
            }
            catch (Exception e) when (IsBrokenLink(e) && !cancellationToken.IsCancellationRequested)
            {
                var (status, detail) = e is RpcException rpc ? (rpc.StatusCode, rpc.Status.Detail) : (StatusCode.Unavailable, e.Message);
                // Bytes delivered in this attempt prove the child reachable: the grace period starts again from here.
                if (BytesSent > sentBefore)
                {
                    attempt = 0;
                    unreachableSince = timeProvider.GetTimestamp();
                }

                var unreachable = timeProvider.GetElapsedTime(unreachableSince);
                if (unreachable >= GracePeriod)
                {
                    throw Failure($"unreachable for {unreachable.TotalSeconds:F0} s (grace period {GracePeriod.TotalSeconds:F0} s), last {status}: {detail}", status, e);
                }

                var delay = RetryDelays.Count == 0 ? TimeSpan.Zero : RetryDelays[Math.Min(attempt++, RetryDelays.Count - 1)];
                logger.LogWarning(
                    "Push of operation {OperationId} to {ChildVmmId} broke at VM {VmIndex} offset {Offset} ({Status}: {Detail}); resuming in {DelayMs} ms",
                    target.OperationId, target.Child.VmmId, Volatile.Read(ref _vmIndex), Interlocked.Read(ref _offset), status, detail, (long)delay.TotalMilliseconds);
                await Task.Delay(delay, timeProvider, cancellationToken);
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw Failure($"{e.StatusCode}: {e.Status.Detail}", e.StatusCode, e);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                throw Failure(e.Message, StatusCode.Unknown, e);
            }
        }
    }

    private async Task PushOnceAsync(byte[][] buffers, CancellationToken cancellationToken)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var client = new VmTransfer.VmTransferClient(channel);
        using var call = client.Push(cancellationToken: attempt.Token);

        // A child that took the stream but never answers it (a hung handler, a wedged connection) must not hold this
        // forwarder forever: unanswered within the bound, the attempt ends as a broken link, is tried again, and the
        // grace period ends the push with a report that the saga acts on.
        attempt.CancelAfter(AnswerWithin);
        await call.RequestStream.WriteAsync(new PushFrame
        {
            Header = new PushHeader
            {
                OperationId = target.OperationId.ToString(),
                Token = target.Token,
                SenderVmmId = target.SenderVmmId,
                ReceiverVmmId = target.Child.VmmId,
                Stripe = (uint)target.Stripe,
            },
        }, attempt.Token);

        if (!await call.ResponseStream.MoveNext(attempt.Token) || call.ResponseStream.Current.ReplyCase != PushReply.ReplyOneofCase.Accepted)
        {
            throw new RpcException(new Status(StatusCode.Internal, "the child did not accept the stream"));
        }

        attempt.CancelAfter(Timeout.InfiniteTimeSpan);

        var resume = new long[target.Vms.Count];
        foreach (var point in call.ResponseStream.Current.Accepted.Resume)
        {
            if (point.VmIndex < resume.Length)
            {
                var image = target.Vms[(int)point.VmIndex];
                resume[point.VmIndex] = image.IsSealed ? Math.Clamp(point.Offset, 0, image.Bytes) : Math.Max(point.Offset, 0);
            }
        }

        var verified = ReadVerifiedAsync(call.ResponseStream, attempt.Token);
        // A child that ends the call (a refusal) may do so while this side waits for a growing image to grow: stop
        // waiting, so its answer is reported instead of a stalled push.
        _ = verified.ContinueWith(
            static (_, state) => CancelQuietly((CancellationTokenSource)state!),
            attempt,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        try
        {
            _base = 0;
            for (var vm = 0; vm < target.Vms.Count; vm++)
            {
                await SendImageAsync(call.RequestStream, vm, resume[vm], buffers, attempt.Token);
            }

            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is not ImageSourceException && !verified.IsCompletedSuccessfully)
        {
            // A write fails when the child ended the call; the child's status says why, so prefer it.
            attempt.CancelAfter(TimeSpan.FromSeconds(5));
            var answer = await ChildAnswerAsync(verified);
            if (answer is not null)
            {
                throw answer;
            }

            throw;
        }

        var confirmed = await verified;
        var missing = Enumerable.Range(0, target.Vms.Count).FirstOrDefault(i => !confirmed.Contains(i), -1);
        if (missing >= 0)
        {
            Volatile.Write(ref _vmIndex, missing);
            throw new RpcException(new Status(StatusCode.Unavailable, "the child ended the stream before verifying every VM"));
        }
    }

    private async Task SendImageAsync(IClientStreamWriter<PushFrame> requests, int vm, long offset, byte[][] buffers, CancellationToken cancellationToken)
    {
        var image = target.Vms[vm];
        var source = sources[vm];
        // An unsealed image has no size yet: it is read until its source ends, wherever that is.
        var size = image.IsSealed ? image.Bytes : long.MaxValue;
        Volatile.Write(ref _vmIndex, vm);
        Interlocked.Exchange(ref _offset, offset);
        var current = 0;
        Feed?.Pace.Report(Feed, _base + offset);
        var pending = offset < size ? ReadAsync(source, offset, size, buffers[current], cancellationToken) : null;
        try
        {
            while (pending is not null)
            {
                var read = await pending;
                pending = null;
                if (read <= 0)
                {
                    if (!image.IsSealed)
                    {
                        break;
                    }

                    throw new ImageSourceException($"the source image ended at offset {offset} of {image.Bytes}");
                }

                var next = offset + read;
                var buffer = buffers[current];
                current ^= 1;
                if (next < size)
                {
                    pending = ReadAsync(source, next, size, buffers[current], cancellationToken);
                }

                var data = buffer.AsMemory(0, read);
                if (Feed is { } feed)
                {
                    await feed.Pace.WaitAsync(feed, _base + offset, cancellationToken);
                }

                await RateLimit.WaitAsync(read, cancellationToken);
                // Wrapped, not copied: the buffer is refilled only after this write completed.
                await requests.WriteAsync(new PushFrame
                {
                    Chunk = new Chunk
                    {
                        VmIndex = (uint)vm,
                        Offset = offset,
                        Data = UnsafeByteOperations.UnsafeWrap(data),
                        Xxhash3 = XxHash3.HashToUInt64(data.Span),
                    },
                }, cancellationToken);
                offset = next;
                Interlocked.Exchange(ref _offset, offset);
                Interlocked.Add(ref _bytesSent, read);
                TreecastMetrics.BytesRelayed.Add(read, new("vmm", target.SenderVmmId), new("child", target.Child.VmmId));
                Feed?.Pace.Report(Feed, _base + offset);
            }
        }
        finally
        {
            if (pending is not null)
            {
                // The read into the other buffer must end before the buffer is used again.
                await Task.WhenAny(pending);
            }
        }

        // The end marker carries the size and digest the child checks the image against: the manifest's, or for an
        // unsealed image the ones its source sealed it with (the root's, computed as the stream was saved).
        var end = image.IsSealed ? image : await source.SealedAsync(cancellationToken);
        if (!image.IsSealed && end.Bytes != offset)
        {
            throw new InvalidDataException($"the source image ended at offset {offset}, but was sealed at {end.Bytes} bytes");
        }

        await requests.WriteAsync(new PushFrame
        {
            VmEnd = new VmEnd { VmIndex = (uint)vm, Bytes = end.Bytes, Sha256 = end.Sha256 },
        }, cancellationToken);
        _base += end.Bytes;
    }

    private static void CancelQuietly(CancellationTokenSource attempt)
    {
        try
        {
            attempt.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The attempt ended on its own meanwhile.
        }
    }

    private static async Task<RpcException?> ChildAnswerAsync(Task<HashSet<int>> verified)
    {
        try
        {
            await verified;
            return null;
        }
        catch (RpcException answer) when (answer.StatusCode != StatusCode.Cancelled)
        {
            return answer;
        }
        catch (Exception)
        {
            // No better answer from the child; the caller reports its own failure.
            return null;
        }
    }

    private static Task<int> ReadAsync(ImageSource source, long offset, long size, byte[] buffer, CancellationToken cancellationToken) =>
        source.ReadAsync(offset, buffer.AsMemory(0, (int)Math.Min(buffer.Length, size - offset)), cancellationToken).AsTask();

    private static async Task<HashSet<int>> ReadVerifiedAsync(IAsyncStreamReader<PushReply> replies, CancellationToken cancellationToken)
    {
        var verified = new HashSet<int>();
        while (await replies.MoveNext(cancellationToken))
        {
            if (replies.Current.ReplyCase == PushReply.ReplyOneofCase.Verified)
            {
                verified.Add((int)replies.Current.Verified.VmIndex);
            }
        }

        return verified;
    }

    private TransferFailedException Failure(string reason, StatusCode status, Exception inner)
    {
        var vm = Volatile.Read(ref _vmIndex);
        var vmId = vm < target.Vms.Count ? target.Vms[vm].VmId : "?";
        return new TransferFailedException(
            $"Push of operation {target.OperationId} to {target.Child.VmmId} ({target.Child.GrpcEndpoint}) failed at VM {vmId} offset {Interlocked.Read(ref _offset)}: {reason}",
            status,
            inner);
    }

    // A link that broke under a write (the child's process died, its connection reset) surfaces as the transport's own
    // IOException or HttpRequestException, not as a status: it resumes like Unavailable. The image source's failures
    // arrive as ImageSourceException (their IOExceptions wrapped where they are read) and are final.
    private static bool IsBrokenLink(Exception e) => e switch
    {
        ImageSourceException => false,
        RpcException rpc => IsTransient(rpc.StatusCode),
        IOException or HttpRequestException => true,
        _ => false,
    };

    // A stream that broke (network, a restarted child, a stale offset, a chunk garbled on the way) resumes, and so does a
    // refusal: a child that has not yet heard of the tree naming this agent its parent admits it once it has. Corrupt
    // images, a failed receive and malformed frames do not.
    private static bool IsTransient(StatusCode status) => status is StatusCode.Unavailable or StatusCode.Internal
        or StatusCode.Unknown or StatusCode.Cancelled or StatusCode.DeadlineExceeded
        or StatusCode.FailedPrecondition or StatusCode.ResourceExhausted or StatusCode.PermissionDenied;
}
