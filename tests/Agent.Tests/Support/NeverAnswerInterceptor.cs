using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Treecast.Agent.Tests.Support;

/// <summary>A child whose push handler takes the stream and never answers it: a hung agent that still holds its connection.</summary>
internal sealed class NeverAnswerInterceptor : Interceptor
{
    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        await Task.Delay(Timeout.Infinite, context.CancellationToken);
}
