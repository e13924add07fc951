using System.Text.Json;

namespace Treecast.Bench.Broadcast;

/// <summary>Reads one ended operation's document (<c>GET /operations/{id}</c>) into the benchmark's figures.</summary>
public static class OperationRecord
{
    public static StrategyRun Read(
        JsonElement operation,
        BroadcastStrategy strategy,
        int receivers,
        double bitsPerSecond,
        (long Sent, double Cpu, double Peak)[] usage)
    {
        var requestedAt = operation.GetProperty("requestedAt").GetDateTimeOffset();
        var finishedAt = operation.GetProperty("finishedAt").GetDateTimeOffset();
        DateTimeOffset? transferStartedAt = operation.TryGetProperty("transferStartedAt", out var started) && started.ValueKind == JsonValueKind.String
            ? started.GetDateTimeOffset()
            : null;
        var images = operation.GetProperty("vms").EnumerateArray()
            .ToDictionary(v => v.GetProperty("vmId").GetString()!, v => (Bytes: v.GetProperty("bytes").GetInt64(), Sha256: v.GetProperty("sha256").GetString()));
        var imageBytes = images.Values.Sum(i => i.Bytes);
        var hosts = operation.GetProperty("hosts").EnumerateArray().ToList();
        var parents = hosts.ToDictionary(h => h.GetProperty("vmmId").GetString()!, h => h.TryGetProperty("parentVmmId", out var p) ? p.GetString() : null);

        // Every receiver verified, holding a copy of every root VM with the root's digest.
        var verified = hosts
            .Where(h => h.GetProperty("vmmId").GetString() != ShapedFleet.RootVmmId)
            .All(h => h.GetProperty("verified").GetBoolean()
                && images.All(image => h.GetProperty("copies").EnumerateArray().Any(c =>
                    c.GetProperty("vmId").GetString() == image.Key && c.GetProperty("sha256").GetString() == image.Value.Sha256)));
        var bound = imageBytes * 8 / bitsPerSecond;
        var seconds = (finishedAt - requestedAt).TotalSeconds;
        var agents = usage.Select((u, host) =>
        {
            var vmmId = ShapedFleet.VmmId(host);
            return new AgentUsage(vmmId, parents.GetValueOrDefault(vmmId), u.Sent, u.Cpu, u.Peak);
        }).ToArray();
        return new StrategyRun(
            strategy.Name,
            strategy.FanOutFor(receivers),
            strategy.Stripes,
            operation.GetProperty("correlationId").GetGuid(),
            operation.GetProperty("currentState").GetString()!,
            hosts.Count == receivers + 1 && verified,
            imageBytes,
            seconds,
            transferStartedAt is null ? null : (finishedAt - transferStartedAt.Value).TotalSeconds,
            seconds / bound,
            Depth(parents),
            operation.TryGetProperty("failureReason", out var reason) && reason.ValueKind == JsonValueKind.String ? reason.GetString() : null,
            agents);
    }

    private static int Depth(Dictionary<string, string?> parents)
    {
        int DepthOf(string vmm)
        {
            var depth = 0;
            for (var at = parents.GetValueOrDefault(vmm); at is not null && depth <= parents.Count; at = parents.GetValueOrDefault(at))
            {
                depth++;
            }

            return depth;
        }

        return parents.Keys.Max(DepthOf);
    }
}
