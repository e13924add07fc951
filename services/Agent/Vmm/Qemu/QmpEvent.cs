using System.Text.Json;

namespace Treecast.Agent.Vmm.Qemu;

/// <summary>An asynchronous QMP event (STOP, RESUME, MIGRATION, SHUTDOWN, …) as QEMU sent it.</summary>
/// <param name="Data">The event's <c>data</c> member; <see cref="JsonValueKind.Undefined"/> when it has none.</param>
public sealed record QmpEvent(string Name, JsonElement Data, DateTimeOffset Timestamp);
