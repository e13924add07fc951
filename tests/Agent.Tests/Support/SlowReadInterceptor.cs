using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Treecast.Agent.Tests.Support;

/// <summary>Makes a server read every incoming frame late, like a child on a slow disk or link.</summary>
internal sealed class SlowReadInterceptor(TimeSpan delayPerFrame) : Interceptor
{
    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        continuation(new SlowReader<TRequest>(requestStream, delayPerFrame), responseStream, context);

    private sealed class SlowReader<T>(IAsyncStreamReader<T> inner, TimeSpan delay) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            await Task.Delay(delay, cancellationToken);
            return await inner.MoveNext(cancellationToken);
        }
    }
}
