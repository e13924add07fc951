using System.CommandLine;
using System.Text;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Treecast.Contracts;
using Treecast.Policy.Evaluation;

namespace Treecast.Cli;

/// <summary>
/// <c>treecast event publish</c>: an external event, as a monitoring system sends it (the README's JSON, no envelope), to
/// the external-events exchange. Checked here first, so a mistake is a line now rather than a message in an _error queue.
/// </summary>
public static class EventCommands
{
    public static Command Build() => new("event", "External events, as monitoring systems send them.") { Publish() };

    private static Command Publish()
    {
        var type = new Option<string?>("--type") { Description = "host.degraded, workload.started, workload.completed or broadcast.requested." };
        var vmm = new Option<string?>("--vmm") { Description = "The VMM (host) the event is about: the root of any broadcast it starts." };
        var severity = new Option<string?>("--severity") { Description = "For example critical, major, minor (policies may match it)." };
        var workload = new Option<string?>("--workload-id") { Description = "The workload of a workload.* event." };
        var eventId = new Option<string?>("--event-id") { Description = "Makes a repeat of the same event a no-op (default: a new id each time)." };
        var attributes = new Option<string[]>("--attribute") { Description = "key=value, repeatable; policies match them as attributes.<key>." };
        var file = new Option<FileInfo?>("--file") { Description = "Publish this JSON document instead of one built from the options above." };
        var amqp = new Option<string>("--amqp")
        {
            Description = "The broker, as a monitoring account sees it (env TREECAST_EVENTS), for example amqp://treecast-monitoring:<password>@localhost:5672/%2f.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TREECAST_EVENTS") ?? "amqp://guest:guest@localhost:5672/%2f",
        };
        var http = new Option<string?>("--policy-url")
        {
            Description = "Post the event to this policy service's POST /events instead of the broker (needs --api-key or TREECAST_API_KEY).",
        };
        var key = ServiceOptions.ApiKey();
        var command = new Command("publish", $"Publishes one external event to the {Addresses.ExternalEventsExchange} exchange (and waits for the broker's confirm), or posts it to the policy service.")
        {
            type, vmm, severity, workload, eventId, attributes, file, amqp, http, key,
        };
        command.SetAction((result, cancellationToken) => Output.GuardAsync(async () =>
        {
            var external = result.GetValue(file) is { } path
                ? Read(path)
                : new ExternalEvent
                {
                    Type = result.GetValue(type) ?? throw new CliException(ExitCodes.Usage, "give --type (for example --type host.degraded) or --file"),
                    EventId = result.GetValue(eventId) ?? $"cli-{Guid.NewGuid():N}",
                    Vmm = result.GetValue(vmm),
                    Severity = result.GetValue(severity),
                    WorkloadId = result.GetValue(workload),
                    OccurredAt = DateTimeOffset.UtcNow,
                    Attributes = Attributes(result.GetValue(attributes) ?? []),
                };
            try
            {
                ObservedEvent.FromExternal(external);
            }
            catch (MalformedExternalEventException ex)
            {
                throw new CliException(ExitCodes.Usage, $"the event would be refused: {ex.Message}");
            }

            if (result.GetValue(http) is { } url)
            {
                using var policy = ServiceOptions.Policy(url, result.GetValue(key));
                await policy.PostAsync("/events", external, cancellationToken);
            }
            else
            {
                await PublishAsync(result.GetRequiredValue(amqp), external, cancellationToken);
            }

            Console.WriteLine($"published {external.Type} {external.EventId} about {external.Vmm}; `treecast ops list` shows what it started");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static async Task PublishAsync(string uri, ExternalEvent external, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var address) || address.Scheme is not ("amqp" or "amqps"))
        {
            throw new CliException(ExitCodes.Usage, $"--amqp '{uri}' is not an amqp:// address, for example amqp://treecast-monitoring:<password>@localhost:5672/%2f");
        }

        var shown = $"{address.Scheme}://{address.Host}:{address.Port}{address.AbsolutePath}";
        try
        {
            var factory = new ConnectionFactory { Uri = address, ClientProvidedName = "treecast-cli" };
            await using var connection = await factory.CreateConnectionAsync(cancellationToken);
            await using var channel = await connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
                cancellationToken);
            var properties = new BasicProperties
            {
                ContentType = "application/json",
                DeliveryMode = DeliveryModes.Persistent,
                MessageId = external.EventId,
            };
            var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(external, Output.Json));
            await channel.BasicPublishAsync(Addresses.ExternalEventsExchange, string.Empty, mandatory: false, properties, body, cancellationToken);
        }
        catch (BrokerUnreachableException ex)
        {
            var why = ex.InnerException is AuthenticationFailureException ? "the user or password is wrong" : ex.InnerException?.Message ?? ex.Message;
            throw new CliException(ExitCodes.Unavailable, $"cannot reach the broker at {shown} ({why}); check --amqp (or TREECAST_EVENTS)");
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            throw new CliException(ExitCodes.Unavailable, $"the broker at {shown} has no {Addresses.ExternalEventsExchange} exchange: start the policy service once (it declares it), or check the virtual host in --amqp");
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 403)
        {
            throw new CliException(ExitCodes.Unavailable, $"the broker at {shown} refused the publish ({ex.ShutdownReason.ReplyText}); use an account that may write {Addresses.ExternalEventsExchange} (treecast-monitoring)");
        }
        catch (PublishException)
        {
            throw new CliException(ExitCodes.Unavailable, $"the broker at {shown} did not confirm the event; publish it again (the same --event-id makes a repeat harmless)");
        }
    }

    private static ExternalEvent Read(FileInfo path)
    {
        try
        {
            return JsonSerializer.Deserialize<ExternalEvent>(File.ReadAllBytes(path.FullName), Output.Json)
                ?? throw new CliException(ExitCodes.Usage, $"--file {path}: the file holds null, not an event object");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Usage, $"--file {path}: {ex.Message}");
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.Usage, $"--file {path}: not an event's JSON ({ex.Message}); see the README's external-event format");
        }
    }

    private static Dictionary<string, JsonElement>? Attributes(string[] pairs)
    {
        if (pairs.Length == 0)
        {
            return null;
        }

        var attributes = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new CliException(ExitCodes.Usage, $"--attribute '{pair}' is not key=value, for example --attribute rack=r7");
            }

            attributes[pair[..equals]] = JsonSerializer.SerializeToElement(pair[(equals + 1)..]);
        }

        return attributes;
    }
}
