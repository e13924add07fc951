using Microsoft.Extensions.Diagnostics.HealthChecks;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Treecast.Persistence;

/// <summary>
/// Readiness of a service whose state is in MongoDB: a ping within a short limit. A service that cannot reach its
/// store cannot do its work, so it should not be sent any (a load balancer or compose reads <c>/health/ready</c>).
/// </summary>
public sealed class MongoHealthCheck(IMongoDatabase database) : IHealthCheck
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(3);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Limit);
        try
        {
            await database.RunCommandAsync<BsonDocument>(new BsonDocument("ping", 1), cancellationToken: timeout.Token);
            return HealthCheckResult.Healthy($"MongoDB answers (database {database.DatabaseNamespace.DatabaseName})");
        }
        catch (Exception e) when (e is MongoException or TimeoutException or OperationCanceledException)
        {
            // One line, no stack: the reason is what an operator needs.
            return HealthCheckResult.Unhealthy(
                $"MongoDB did not answer a ping within {Limit.TotalSeconds:F0} s (database {database.DatabaseNamespace.DatabaseName}): {e.GetType().Name}");
        }
    }
}
