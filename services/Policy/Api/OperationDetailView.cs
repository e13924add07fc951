using System.Text.Json;
using System.Text.Json.Nodes;
using Treecast.Policy.Operations;
using Treecast.Policy.Sagas;

namespace Treecast.Policy.Api;

/// <summary>
/// <c>GET /operations/{id}</c>: the saga document as operators know it from mongosh, with each receiver's progress
/// reports merged into its host entry (<c>bytesReceived</c>, <c>totalBytes</c>: the furthest of the two; and
/// <c>lastProgressAt</c>), since progress is kept apart from the saga document.
/// </summary>
public static class OperationDetailView
{
    public static JsonObject From(BroadcastOperationState operation, IReadOnlyList<ReceiverProgress> reports, JsonSerializerOptions json)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(reports);
        var document = JsonSerializer.SerializeToNode(operation, json)!.AsObject();
        var byVmm = reports.ToDictionary(r => r.VmmId, StringComparer.Ordinal);
        foreach (var host in document["hosts"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            var report = host["vmmId"]?.GetValue<string>() is { } vmmId ? byVmm.GetValueOrDefault(vmmId) : null;
            host["lastProgressAt"] = report is null ? null : JsonValue.Create(report.LastProgressAt);
            if (report is not null)
            {
                host["bytesReceived"] = Math.Max(host["bytesReceived"]?.GetValue<long>() ?? 0, report.BytesReceived);
                host["totalBytes"] = Math.Max(host["totalBytes"]?.GetValue<long>() ?? 0, report.TotalBytes);
            }
        }

        return document;
    }
}
