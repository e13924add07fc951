using System.Text.Json;
using MassTransit;
using Treecast.Contracts;
using Treecast.Hosting.ApiAccess;
using Treecast.Policy.Evaluation;

namespace Treecast.Policy.Api;

/// <summary>
/// External events over HTTP, for monitoring systems that post rather than publish: <c>POST /events</c> takes the same
/// JSON as the <c>treecast.external-events</c> exchange, <c>POST /events/alertmanager</c> Alertmanager's webhook payload
/// (<see cref="AlertmanagerWebhook"/>). Each event is checked here (a malformed one is a 400 naming the field) and then
/// published on the bus, so it takes the same path as one from the exchange: queued durably before the 202, decided by
/// the same consumer, deduplicated by its event id. Both need an API key. <c>GET /events/recent</c> lists the latest
/// events that matched no policy, with their count.
/// </summary>
public static class EventEndpoints
{
    private const int MaxEventBytes = 64 * 1024;
    private const int MaxWebhookBytes = 4 * 1024 * 1024;

    // Relaxed escaping: an error reads as written ('vmm', not \u0027vmm\u0027); answers are JSON, never embedded in HTML.
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static WebApplication MapEventEndpoints(this WebApplication app)
    {
        var events = app.MapGroup("/events");

        // What arrived and decided nothing: counted since the service started, the latest kept (UnmatchedEvents).
        events.MapGet("/recent", (UnmatchedEvents unmatched) =>
        {
            var (total, recent) = unmatched.Snapshot();
            return Results.Json(new { unmatchedTotal = total, unmatched = recent }, Json);
        }).AllowReaders();

        events.MapPost("/", async (HttpRequest request, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            var (external, problem) = await ReadAsync<ExternalEvent>(request, MaxEventBytes, "an external event", cancellationToken);
            if (external is null)
            {
                return problem!;
            }

            if (Check(external) is { } malformed)
            {
                return Error(StatusCodes.Status400BadRequest, malformed);
            }

            await bus.Publish(external, cancellationToken);
            return Results.Json(new { accepted = new[] { Accepted(external) } }, Json, statusCode: StatusCodes.Status202Accepted);
        }).RequireOperator();

        events.MapPost("/alertmanager", async (HttpRequest request, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            var (webhook, problem) = await ReadAsync<AlertmanagerWebhook>(request, MaxWebhookBytes, "an Alertmanager webhook payload", cancellationToken);
            if (webhook is null)
            {
                return problem!;
            }

            var (candidates, skipped) = webhook.ToEvents();
            var accepted = new List<object>();
            var refused = skipped.ToList();
            foreach (var external in candidates)
            {
                if (Check(external) is { } malformed)
                {
                    refused.Add($"{external.EventId}: {malformed}");
                    continue;
                }

                await bus.Publish(external, cancellationToken);
                accepted.Add(Accepted(external));
            }

            // Alertmanager retries on 5xx only; an alert that cannot be an event is the rule's problem, reported, not retried.
            return Results.Json(new { accepted, skipped = refused }, Json, statusCode: StatusCodes.Status202Accepted);
        }).RequireOperator();

        return app;
    }

    private static object Accepted(ExternalEvent external) => new { eventId = external.EventId, type = external.Type, vmm = external.Vmm };

    private static string? Check(ExternalEvent external)
    {
        try
        {
            ObservedEvent.FromExternal(external);
            return null;
        }
        catch (MalformedExternalEventException ex)
        {
            return ex.Message;
        }
    }

    private static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, int maxBytes, string what, CancellationToken cancellationToken)
        where T : class
    {
        var body = await RequestBody.ReadAsync(request, maxBytes, cancellationToken);
        if (body is null)
        {
            return (null, Error(StatusCodes.Status413PayloadTooLarge, $"the body is larger than {maxBytes / 1024} KiB; send {what} per request"));
        }

        try
        {
            return JsonSerializer.Deserialize<T>(body, Json) is { } value
                ? (value, null)
                : (null, Error(StatusCodes.Status400BadRequest, $"the body is JSON null; send {what} as a JSON object"));
        }
        catch (JsonException ex)
        {
            return (null, Error(StatusCodes.Status400BadRequest, $"the body is not {what} ({ex.Message}); see the README's external-event format"));
        }
    }

    private static IResult Error(int status, string message) => Results.Json(new { error = message }, Json, statusCode: status);
}
