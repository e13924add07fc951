using System.Text.Json;
using MassTransit;
using Treecast.Contracts;
using Treecast.Policy.Operations;
using Treecast.Policy.Sagas;

namespace Treecast.Policy.Api;

/// <summary>
/// <c>POST /operations/{id}/cancel</c> (an API key required: <see cref="Treecast.Hosting.ApiAccess.ApiAccessExtensions"/>): sends <see cref="CancelOperation"/> to the broadcast saga and answers 202 with the
/// operation id; 404 for an unknown operation; 409 with the reason when it already ended or is resuming its copies.
/// The saga decides in the end (an operation may end between this check and the command): it ignores a cancel it can
/// no longer honour, with a note in the history.
/// </summary>
public static class OperationCancelEndpoint
{
    /// <summary>A body is two short strings; anything larger is refused before it is read.</summary>
    public const int MaxBodyBytes = 4096;

    private const string Anonymous = "anonymous";

    public static RouteHandlerBuilder MapCancel(this RouteGroupBuilder operations, JsonSerializerOptions json)
    {
        ArgumentNullException.ThrowIfNull(operations);
        return operations.MapPost("/{id}/cancel", async (
            string id,
            HttpContext http,
            IOperationReadModel readModel,
            ISendEndpointProvider send,
            TimeProvider clock,
            CancellationToken cancellationToken) =>
        {
            if (!Guid.TryParse(id, out var operationId))
            {
                return Error(json, StatusCodes.Status400BadRequest, $"'{id}' is not an operation id: use the GUID of an operation as GET /operations lists it.");
            }

            var (body, problem, status) = await ReadBodyAsync(http.Request, json, cancellationToken);
            if (body is null)
            {
                return Error(json, status, problem!);
            }

            if (await readModel.FindAsync(operationId, cancellationToken) is not { } operation)
            {
                return Error(json, StatusCodes.Status404NotFound, $"No broadcast operation {operationId}: GET /operations lists the known ones, newest first.");
            }

            if (Refusal(operation) is { } refused)
            {
                return Error(json, StatusCodes.Status409Conflict, refused);
            }

            // Who asks is the API key's name (the only name the service can vouch for); a name in the body is kept beside it.
            var key = http.User.Identity?.Name ?? Anonymous;
            var requestedBy = string.IsNullOrWhiteSpace(body.RequestedBy) ? key : $"{body.RequestedBy.Trim()} (key {key})";
            var cancel = new CancelOperation(operationId, requestedBy, string.IsNullOrWhiteSpace(body.Reason) ? null : body.Reason.Trim(), clock.GetUtcNow());
            var endpoint = await send.GetSendEndpoint(Addresses.BroadcastOperations);
            await endpoint.Send(cancel, cancellationToken);
            return Results.Json(
                new { operationId, state = operation.CurrentState, requestedBy, cancel.RequestedAt },
                json,
                statusCode: StatusCodes.Status202Accepted);
        });
    }

    /// <summary>Why the operation can no longer be cancelled, or null when it can (running, or being cancelled already).</summary>
    private static string? Refusal(BroadcastOperationState operation) => operation.CurrentState switch
    {
        nameof(BroadcastOperationStateMachine.Duplicating) =>
            $"Operation {operation.CorrelationId} is resuming its copies (Duplicating): past cancelling; it ends on its own within the resume timeout.",
        nameof(BroadcastOperationStateMachine.Completed) or nameof(BroadcastOperationStateMachine.CompletedWithFailures)
            or nameof(BroadcastOperationStateMachine.Duplicated) or nameof(BroadcastOperationStateMachine.Failed)
            or nameof(BroadcastOperationStateMachine.TimedOut) or nameof(BroadcastOperationStateMachine.Cancelled) =>
            $"Operation {operation.CorrelationId} already ended {operation.CurrentState} at {operation.FinishedAt:O}: nothing to cancel.",
        _ => null,
    };

    private static async Task<(OperationCancelRequest? Body, string? Problem, int Status)> ReadBodyAsync(
        HttpRequest request,
        JsonSerializerOptions json,
        CancellationToken cancellationToken)
    {
        var buffer = await RequestBody.ReadAsync(request, MaxBodyBytes, cancellationToken);
        if (buffer is null)
        {
            return (null, TooLarge(), StatusCodes.Status413PayloadTooLarge);
        }

        if (buffer.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
        {
            return (new OperationCancelRequest(null, null), null, StatusCodes.Status200OK);
        }

        try
        {
            var body = JsonSerializer.Deserialize<OperationCancelRequest>(buffer.AsSpan(), json);
            return body is null
                ? (null, NotJson("the body is null"), StatusCodes.Status400BadRequest)
                : (body, null, StatusCodes.Status200OK);
        }
        catch (JsonException ex)
        {
            return (null, NotJson(ex.Message), StatusCodes.Status400BadRequest);
        }
    }

    private static string TooLarge() =>
        $"The cancel request body is larger than {MaxBodyBytes} bytes: send {{\"requestedBy\": \"...\", \"reason\": \"...\"}}, or no body at all.";

    private static string NotJson(string problem) =>
        $"The cancel request body is not {{\"requestedBy\": \"...\", \"reason\": \"...\"}} ({problem}); send that JSON object, or no body at all.";

    private static IResult Error(JsonSerializerOptions json, int status, string error) =>
        Results.Json(new { error }, json, statusCode: status);
}
