using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Treecast.Hosting.ApiAccess;
using Treecast.Policy.Operations;
using Treecast.Policy.Sagas;

namespace Treecast.Policy.Api;

/// <summary>
/// The operators' read-out of broadcast operations over HTTP, the same as their mongosh queries give, and their one
/// command, cancel (<see cref="OperationCancelEndpoint"/>):
/// <c>GET /operations</c> (filter by state, root, since) and <c>GET /operations/{id}</c> (the whole saga document), with the
/// receivers' progress reports (kept apart from the saga document) merged in.
/// </summary>
public static class OperationEndpoints
{
    private const int DefaultLimit = 100;
    private const int MaxLimit = 1000;

    // Enums by name, as in the MongoDB documents: "Duplicate", not 1. Relaxed escaping so that error messages
    // read as written ('x', not \u0027x\u0027); the answers are JSON documents, never embedded in HTML.
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static WebApplication MapOperationEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var operations = app.MapGroup("/operations");
        operations.MapCancel(Json).RequireOperator();

        operations.MapGet("/", async (
            string? state,
            string? root,
            string? since,
            string? limit,
            IOperationReadModel readModel,
            IOperationProgressStore progress,
            BroadcastOperationStateMachine machine,
            CancellationToken cancellationToken) =>
        {
            var (query, problem) = Parse(state, root, since, limit, machine);
            if (query is null)
            {
                return Results.Json(new { error = problem }, Json, statusCode: StatusCodes.Status400BadRequest);
            }

            var found = await readModel.ListAsync(query, cancellationToken);
            var reports = await progress.ForOperationsAsync(found.Select(o => o.CorrelationId).ToList(), cancellationToken);
            return Results.Json(found.Select(o => OperationSummaryView.From(o, reports[o.CorrelationId])).ToList(), Json);
        }).AllowReaders();

        operations.MapGet("/{id}", async (string id, IOperationReadModel readModel, IOperationProgressStore progress, CancellationToken cancellationToken) =>
        {
            if (!Guid.TryParse(id, out var operationId))
            {
                return Results.Json(
                    new { error = $"'{id}' is not an operation id: use the GUID of an operation as GET /operations lists it (the OperationId of its BroadcastRequested)." },
                    Json,
                    statusCode: StatusCodes.Status400BadRequest);
            }

            return await readModel.FindAsync(operationId, cancellationToken) is { } operation
                ? Results.Json(OperationDetailView.From(operation, await progress.ForOperationAsync(operationId, cancellationToken), Json), Json)
                : Results.Json(
                    new { error = $"No broadcast operation {operationId}: GET /operations lists the known ones, newest first. An operation appears once the policy service has consumed its BroadcastRequested." },
                    Json,
                    statusCode: StatusCodes.Status404NotFound);
        }).AllowReaders();

        return app;
    }

    private static (OperationQuery? Query, string? Problem) Parse(
        string? state,
        string? root,
        string? since,
        string? limit,
        BroadcastOperationStateMachine machine)
    {
        string? stateName = null;
        if (!string.IsNullOrWhiteSpace(state))
        {
            // Initial and Final are the state machine's own; no stored operation rests in them.
            var names = machine.States
                .Select(s => s.Name)
                .Where(n => n != machine.Initial.Name && n != machine.Final.Name)
                .ToList();
            stateName = names.FirstOrDefault(n => string.Equals(n, state.Trim(), StringComparison.OrdinalIgnoreCase));
            if (stateName is null)
            {
                return (null, $"state '{state}' is not a broadcast operation state; use one of {string.Join(", ", names)}");
            }
        }

        DateTimeOffset? sinceInstant = null;
        if (!string.IsNullOrWhiteSpace(since))
        {
            if (!DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return (null, $"since '{since}' is not a date and time; use ISO 8601, for example 2026-11-25T09:00:00Z");
            }

            sinceInstant = parsed;
        }

        var count = DefaultLimit;
        if (!string.IsNullOrWhiteSpace(limit)
            && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1 || count > MaxLimit))
        {
            return (null, $"limit '{limit}' is not a whole number from 1 to {MaxLimit}");
        }

        var rootVmmId = string.IsNullOrWhiteSpace(root) ? null : root.Trim();
        return (new OperationQuery(stateName, rootVmmId, sinceInstant, count), null);
    }
}
