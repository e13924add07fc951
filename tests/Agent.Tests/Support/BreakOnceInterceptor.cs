using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Treecast.Agent.Tests.Support;

/// <summary>Breaks the first push after a number of frames (the connection resets), as a flaky network would.</summary>
internal sealed class BreakOnceInterceptor(BreakOnceInterceptor.Budget budget) : Interceptor
{
    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        Interlocked.Exchange(ref budget.Armed, 0) == 1
            ? continuation(new BreakingReader<TRequest>(requestStream, context, budget.AfterFrames), responseStream, context)
            : continuation(requestStream, responseStream, context);

    internal sealed class Budget(int afterFrames)
    {
        public int Armed = 1;

        public int AfterFrames { get; } = afterFrames;
    }

    private sealed class BreakingReader<T>(IAsyncStreamReader<T> inner, ServerCallContext context, int afterFrames) : IAsyncStreamReader<T>
    {
        private int _frames;

        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (++_frames > afterFrames)
            {
                context.GetHttpContext().Abort();
                throw new IOException("connection reset by the test");
            }

            return await inner.MoveNext(cancellationToken);
        }
    }
}
