using System.Reflection;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Treecast.Hosting.Telemetry;

/// <summary>
/// Puts the operation id of a consumed message (any message with a <c>Guid OperationId</c>) into the log scope, so every
/// line a consumer logs for it carries <c>OperationId</c> (JSON logs show it; <c>Logging:Format=json</c>). Scopes are
/// process-wide in Microsoft.Extensions.Logging, so one logger's scope covers the consumer's own loggers.
/// </summary>
public sealed class OperationLogScopeFilter<T>(ILogger<OperationLogScopeFilter<T>> logger) : IFilter<ConsumeContext<T>>
    where T : class
{
    // Looked up once per message type; null for the types that carry no operation (heartbeats, external events).
    private static readonly PropertyInfo? OperationId = typeof(T).GetProperty("OperationId") is { PropertyType: var type } property && type == typeof(Guid)
        ? property
        : null;

    public async Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        if (OperationId is null)
        {
            await next.Send(context);
            return;
        }

        using (logger.BeginScope(new Dictionary<string, object> { ["OperationId"] = OperationId.GetValue(context.Message)! }))
        {
            await next.Send(context);
        }
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("operationLogScope");
}
