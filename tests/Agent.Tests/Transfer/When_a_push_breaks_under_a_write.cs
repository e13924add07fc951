using System.Net;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Treecast.Agent.Tests.Support;
using Treecast.Agent.Transfer;
using Treecast.Contracts;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>
/// A forwarder tells a broken link from a broken source, though both throw <see cref="IOException"/> underneath: a write
/// the transport aborts (the child's process died, its connection reset) is resumed, a read of the image that fails is
/// final at once.
/// </summary>
public sealed class When_a_push_breaks_under_a_write
{
    private const int ChunkSize = 64 * 1024;
    private const long ImageBytes = 40L * ChunkSize;
    private const string VmId = "root-vm-0";

    [Fact]
    public async Task Should_resume_after_the_transport_aborts_the_request_and_deliver_identical_bytes()
    {
        await using var cluster = new TransferCluster(plaintext: true);
        var root = await cluster.AddAsync("root", null, [(VmId, ImageBytes)]);
        var child = await cluster.AddAsync("child", "root");
        var operationId = Guid.NewGuid();
        var announced = cluster.Announce(operationId, ChunkSize);
        var breaker = new AbortFirstRequestHandler(abortAfterBytes: 10 * ChunkSize);
        using var channel = GrpcChannel.ForAddress(child.Endpoint, new GrpcChannelOptions { HttpHandler = breaker });
        var forwarder = Forwarder(announced, child, [VmmImageSource.Of(root.Vmm, VmId)], channel);

        await forwarder.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2));

        await cluster.WaitForReceivedAsync(operationId, "child", TimeSpan.FromMinutes(2));
        Assert.Equal(root.Vmm.Images[0].Sha256, FileVmm.Sha256Of(child.Vmm.ImagePath(VmId)));
        Assert.True(breaker.Requests >= 2, $"{breaker.Requests} requests: the aborted one was not resumed by another");
        Assert.True(breaker.Aborted, "the transport never aborted a request");
        Assert.Empty(cluster.Events.All<OperationStepFailed>());
    }

    [Fact]
    public async Task Should_fail_at_once_when_reading_the_image_fails()
    {
        await using var cluster = new TransferCluster(plaintext: true);
        await cluster.AddAsync("root", null, [(VmId, ImageBytes)]);
        var child = await cluster.AddAsync("child", "root");
        var announced = cluster.Announce(Guid.NewGuid(), ChunkSize);
        var opened = 0;
        var source = new VmmImageSource(
            () =>
            {
                Interlocked.Increment(ref opened);
                throw new IOException($"VM {VmId} on root: its image file is unreadable");
            },
            _ => throw new InvalidOperationException("an unreadable image is never sealed"));
        var forwarder = Forwarder(announced, child, [source], cluster.Channel("root", "child"));

        var failed = await Assert.ThrowsAsync<TransferFailedException>(() => forwarder.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2)));

        Assert.Contains("its image file is unreadable", failed.Message, StringComparison.Ordinal);
        Assert.IsType<ImageSourceException>(failed.InnerException);
        Assert.Equal(1, opened);
    }

    private static ChunkForwarder Forwarder(PendingTransferAnnounced announced, TestAgent child, IReadOnlyList<ImageSource> sources, GrpcChannel channel) =>
        new(
            new ForwardTarget(announced.OperationId, announced.Token, "root", child.Node("root"), announced.Vms, announced.ChunkSizeBytes),
            sources,
            channel,
            NullLogger<ChunkForwarder>.Instance,
            TimeProvider.System)
        {
            RetryDelays = [TimeSpan.FromMilliseconds(50)],

            // Long enough that a retried source failure would show as more than one open.
            GracePeriod = TimeSpan.FromMinutes(1),
        };

    /// <summary>The first request's body throws the transport's own IOException partway, as when the child's process dies.</summary>
    private sealed class AbortFirstRequestHandler(long abortAfterBytes) : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _requests;
        private int _aborted;

        public int Requests => Volatile.Read(ref _requests);

        public bool Aborted => Volatile.Read(ref _aborted) == 1;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _requests) == 1 && request.Content is { } content)
            {
                var aborting = new AbortingContent(content, abortAfterBytes, () => Volatile.Write(ref _aborted, 1));
                foreach (var header in content.Headers)
                {
                    aborting.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }

                request.Content = aborting;
            }

            return base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class AbortingContent(HttpContent inner, long abortAfterBytes, Action onAbort) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            await inner.CopyToAsync(new AbortingStream(stream, abortAfterBytes, onAbort));

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private sealed class AbortingStream(Stream inner, long abortAfterBytes, Action onAbort) : Stream
    {
        private long _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _written += buffer.Length;
            if (_written > abortAfterBytes)
            {
                onAbort();
                throw new IOException("The request was aborted.");
            }

            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
