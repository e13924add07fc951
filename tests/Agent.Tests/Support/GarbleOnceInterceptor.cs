using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Treecast.Transfer.Protocol;

namespace Treecast.Agent.Tests.Support;

/// <summary>Flips one byte of the n-th chunk a server reads, once, as a link that garbles a frame would.</summary>
internal sealed class GarbleOnceInterceptor(GarbleOnceInterceptor.Budget budget) : Interceptor
{
    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        continuation(new GarblingReader<TRequest>(requestStream, budget), responseStream, context);

    internal sealed class Budget(int chunk)
    {
        private int _chunksSeen;
        private int _garbled;

        /// <summary>Chunks garbled so far (at most one).</summary>
        public int Garbled => Volatile.Read(ref _garbled);

        public bool ShouldGarble() => Interlocked.Increment(ref _chunksSeen) == chunk && Interlocked.Exchange(ref _garbled, 1) == 0;
    }

    private sealed class GarblingReader<T>(IAsyncStreamReader<T> inner, Budget budget) : IAsyncStreamReader<T>
    {
        public T Current { get; private set; } = default!;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (!await inner.MoveNext(cancellationToken))
            {
                return false;
            }

            Current = inner.Current;
            if (Current is PushFrame { FrameCase: PushFrame.FrameOneofCase.Chunk } frame && budget.ShouldGarble())
            {
                var data = frame.Chunk.Data.ToByteArray();
                data[data.Length / 2] ^= 0x5a;
                var garbled = frame.Clone();
                garbled.Chunk.Data = ByteString.CopyFrom(data);
                Current = (T)(object)garbled;
            }

            return true;
        }
    }
}
