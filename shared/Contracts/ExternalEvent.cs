using System.Text.Json;

namespace Treecast.Contracts;

/// <summary>
/// The JSON an external monitoring system publishes (no MassTransit envelope) to
/// <see cref="Addresses.ExternalEventsExchange"/>. Documented in README.md; outside systems depend on it.
/// </summary>
/// <param name="Type">Event type, for example <c>host.degraded</c>, <c>workload.started</c>,
/// <c>workload.completed</c>, <c>broadcast.requested</c>.</param>
/// <param name="Vmm">The VMM (host) the event is about; the root of any broadcast it triggers.</param>
public sealed record ExternalEvent
{
    public string? Type { get; init; }
    public string? EventId { get; init; }
    public string? Vmm { get; init; }
    public string? Severity { get; init; }
    public string? WorkloadId { get; init; }
    public DateTimeOffset? OccurredAt { get; init; }
    public Dictionary<string, JsonElement>? Attributes { get; init; }
}
