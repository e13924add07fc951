using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Treecast.Contracts;

namespace Treecast.Policy.Api;

/// <summary>
/// Prometheus Alertmanager's webhook payload (version 4), as Alertmanager posts it, and how its alerts become external
/// events: the labels <c>treecast_event</c> (or <c>event_type</c>), <c>vmm</c> (or <c>instance</c> without its port) and
/// <c>severity</c> give the event's type, VMM and severity; every other label becomes an attribute. The alert's
/// fingerprint and start time make the event id, so an alert that fires again is a new event and Alertmanager repeating
/// the same firing (every repeat_interval, or after a restart) is not.
/// </summary>
public sealed record AlertmanagerWebhook(string? Version, string? Status, string? Receiver, IReadOnlyList<AlertmanagerAlert>? Alerts)
{
    /// <summary>The events of the firing alerts, and why each other alert was left out.</summary>
    public (IReadOnlyList<ExternalEvent> Events, IReadOnlyList<string> Skipped) ToEvents()
    {
        var events = new List<ExternalEvent>();
        var skipped = new List<string>();
        foreach (var alert in Alerts ?? [])
        {
            var labels = alert.Labels ?? new Dictionary<string, string>();
            var name = labels.GetValueOrDefault("alertname") ?? alert.Fingerprint ?? "alert";
            if (!string.Equals(alert.Status, "firing", StringComparison.OrdinalIgnoreCase))
            {
                skipped.Add($"{name}: status '{alert.Status}' (only firing alerts are events)");
                continue;
            }

            var type = labels.GetValueOrDefault("treecast_event") ?? labels.GetValueOrDefault("event_type");
            if (type is null)
            {
                skipped.Add($"{name}: no 'treecast_event' label; add one to the alerting rule, for example treecast_event: host.degraded");
                continue;
            }

            var startsAt = alert.StartsAt ?? DateTimeOffset.UnixEpoch;
            var fingerprint = alert.Fingerprint ?? Fingerprint(labels);
            events.Add(new ExternalEvent
            {
                Type = type,
                EventId = $"alertmanager:{fingerprint}:{startsAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)}",
                Vmm = labels.GetValueOrDefault("vmm") ?? HostOf(labels.GetValueOrDefault("instance")),
                Severity = labels.GetValueOrDefault("severity"),
                WorkloadId = labels.GetValueOrDefault("workload_id"),
                OccurredAt = alert.StartsAt,
                Attributes = labels
                    .Where(l => l.Key is not ("treecast_event" or "event_type" or "vmm" or "severity" or "workload_id"))
                    .ToDictionary(l => l.Key, l => JsonSerializer.SerializeToElement(l.Value), StringComparer.Ordinal),
            });
        }

        return (events, skipped);
    }

    /// <summary>Alertmanager before 0.19 sent no fingerprint: the same labels always give the same one here.</summary>
    private static string Fingerprint(IReadOnlyDictionary<string, string> labels) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            string.Join('\n', labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")))))[..16];

    /// <summary><c>host-01:9100</c> → <c>host-01</c>: node exporters' instance label names the host with the port scraped.</summary>
    private static string? HostOf(string? instance) =>
        instance is null ? null : instance.LastIndexOf(':') is var colon and > 0 && !instance.EndsWith(']') ? instance[..colon] : instance;
}

/// <summary>One alert of <see cref="AlertmanagerWebhook"/>.</summary>
public sealed record AlertmanagerAlert(
    string? Status,
    IReadOnlyDictionary<string, string>? Labels,
    IReadOnlyDictionary<string, string>? Annotations,
    DateTimeOffset? StartsAt,
    DateTimeOffset? EndsAt,
    string? Fingerprint);
