using System.Text.Json;
using Treecast.Contracts;
using Treecast.Policy.Policies;

namespace Treecast.Policy.Evaluation;

/// <summary>
/// An event as policies see it, whichever way it arrived (external JSON or an agent's contract).
/// <see cref="Type"/> is always one of <see cref="EventTypes.Known"/>, in its canonical spelling.
/// </summary>
/// <param name="EventId">The sender's id for the event, if any; redeliveries of one event carry the same id.</param>
public sealed record ObservedEvent(
    string Type,
    string Vmm,
    string? Severity,
    string? WorkloadId,
    string? EventId,
    IReadOnlyDictionary<string, string> Attributes)
{
    /// <summary>The value of a field a trigger matches on (<see cref="EventTrigger.MatchableFields"/>), or null when the event does not carry it.</summary>
    public string? Field(string name)
    {
        if (name.StartsWith(EventTrigger.AttributePrefix, StringComparison.OrdinalIgnoreCase))
        {
            return Attributes.TryGetValue(name[EventTrigger.AttributePrefix.Length..], out var value) ? value : null;
        }

        return name.ToLowerInvariant() switch
        {
            "vmm" => Vmm,
            "severity" => Severity,
            "workloadid" => WorkloadId,
            _ => null,
        };
    }

    /// <summary>The event in a few words, for an operation's reason and the log: <c>host.degraded (critical) on host-07, event e-1</c>.</summary>
    public string Describe()
    {
        var severity = Severity is null ? string.Empty : $" ({Severity})";
        var id = EventId is null ? string.Empty : $", event {EventId}";
        return $"{Type}{severity} on {Vmm}{id}";
    }

    /// <summary>Checks an external event and converts it; a malformed one throws <see cref="MalformedExternalEventException"/>.</summary>
    public static ObservedEvent FromExternal(ExternalEvent external)
    {
        var type = external.Type?.Trim();
        if (string.IsNullOrEmpty(type))
        {
            throw new MalformedExternalEventException(
                "type",
                $"the event has no 'type' (set \"type\" to one of {EventTypes.KnownList})");
        }

        var canonical = EventTypes.Canonical(type)
            ?? throw new MalformedExternalEventException(
                "type",
                $"unknown event type '{type}' (set \"type\" to one of {EventTypes.KnownList})");

        var vmm = external.Vmm?.Trim();
        if (string.IsNullOrEmpty(vmm))
        {
            throw new MalformedExternalEventException(
                "vmm",
                $"a '{canonical}' event has no 'vmm' (set \"vmm\" to the id of the VMM the event is about)");
        }

        var workloadId = Blank(external.WorkloadId);
        if (workloadId is null && EventTypes.RequiresWorkloadId(canonical))
        {
            throw new MalformedExternalEventException(
                "workloadId",
                $"a '{canonical}' event has no 'workloadId' (set \"workloadId\" to the id of the workload)");
        }

        return new ObservedEvent(
            canonical,
            vmm,
            Blank(external.Severity),
            workloadId,
            Blank(external.EventId),
            ReadAttributes(external.Attributes));
    }

    public static ObservedEvent FromWorkloadStarted(WorkloadStarted started, string? eventId) =>
        new(EventTypes.WorkloadStarted, started.VmmId, null, started.WorkloadId, eventId, NoAttributes);

    public static ObservedEvent FromWorkloadCompleted(WorkloadCompleted completed, string? eventId) =>
        new(EventTypes.WorkloadCompleted, completed.VmmId, null, completed.WorkloadId, eventId, NoAttributes);

    private static readonly IReadOnlyDictionary<string, string> NoAttributes =
        new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static IReadOnlyDictionary<string, string> ReadAttributes(Dictionary<string, JsonElement>? attributes)
    {
        var read = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, element) in attributes ?? [])
        {
            // Policies compare strings; a number or boolean matches its JSON spelling ("3", "true").
            var text = element.ValueKind switch
            {
                JsonValueKind.String => element.GetString(),
                JsonValueKind.Null or JsonValueKind.Undefined => null,
                _ => element.GetRawText(),
            };
            if (text is not null)
            {
                read[name] = text;
            }
        }

        return read;
    }
}
