using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Treecast.Contracts;

namespace Treecast.Cli;

/// <summary><c>treecast ops list|show|watch|cancel</c>: broadcast operations, through the policy service's HTTP API.</summary>
public static class OpsCommands
{
    public static Command Build() => new("ops", "Broadcast operations: list, show, watch live, cancel.")
    {
        List(), Show(), Watch(), Cancel(),
    };

    private static Command List()
    {
        var (url, key, json) = (ServiceOptions.PolicyUrl(), ServiceOptions.ApiKey(), ServiceOptions.Json());
        var state = new Option<string?>("--state") { Description = "Only operations in this state (Transferring, Completed, Failed, ...)." };
        var root = new Option<string?>("--root") { Description = "Only operations rooted at this VMM." };
        var since = new Option<string?>("--since") { Description = "Only operations requested at or after this time (ISO 8601)." };
        var limit = new Option<int?>("--limit") { Description = "At most this many (1-1000, default 100), newest first." };
        var command = new Command("list", "Lists operations, newest first.") { url, key, json, state, root, since, limit };
        command.SetAction((result, cancellationToken) => Output.GuardAsync(async () =>
        {
            using var policy = ServiceOptions.Policy(result.GetRequiredValue(url), result.GetValue(key));
            var query = string.Join('&', new[]
            {
                Query("state", result.GetValue(state)),
                Query("root", result.GetValue(root)),
                Query("since", result.GetValue(since)),
                Query("limit", result.GetValue(limit)?.ToString(CultureInfo.InvariantCulture)),
            }.Where(q => q is not null));
            var operations = (await policy.GetAsync("/operations" + (query.Length > 0 ? "?" + query : string.Empty), cancellationToken)).AsArray();
            if (result.GetValue(json))
            {
                Console.WriteLine(operations.ToJsonString(Output.Json));
                return ExitCodes.Ok;
            }

            var table = new Table().AddColumns("Operation", "Mode", "State", "Root", "Requested", "VMMs verified", "Bytes");
            foreach (var operation in operations.OfType<JsonObject>())
            {
                var progress = operation["progress"]!;
                table.AddRow(
                    Text(operation["id"]),
                    Text(operation["mode"]),
                    Markup.Escape(Text(operation["state"])),
                    Text(operation["root"]),
                    Time(operation["requestedAt"]),
                    $"{Text(progress["verifiedVmms"])}/{Text(progress["totalVmms"])}",
                    Bytes(progress["bytesReceived"], progress["totalBytes"]));
            }

            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Show()
    {
        var (url, key, json) = (ServiceOptions.PolicyUrl(), ServiceOptions.ApiKey(), ServiceOptions.Json());
        var id = new Argument<string>("operation") { Description = "The operation's id, as `treecast ops list` shows it." };
        var command = new Command("show", "Shows one operation: its state, tree, VMMs with their bytes, and its history.") { id, url, key, json };
        command.SetAction((result, cancellationToken) => Output.GuardAsync(async () =>
        {
            using var policy = ServiceOptions.Policy(result.GetRequiredValue(url), result.GetValue(key));
            var operation = (await policy.GetAsync($"/operations/{Uri.EscapeDataString(result.GetRequiredValue(id))}", cancellationToken)).AsObject();
            if (result.GetValue(json))
            {
                Console.WriteLine(operation.ToJsonString(Output.Json));
                return ExitCodes.Ok;
            }

            Describe(operation);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Watch()
    {
        var (url, key) = (ServiceOptions.PolicyUrl(), ServiceOptions.ApiKey());
        var id = new Argument<string>("operation") { Description = "The operation's id, as `treecast ops list` shows it." };
        var command = new Command("watch", "Follows one operation live until it ends; exits 0 when every copy is verified, 1 otherwise.") { id, url, key };
        command.SetAction((result, cancellationToken) => Output.GuardAsync(async () =>
        {
            using var policy = ServiceOptions.Policy(result.GetRequiredValue(url), result.GetValue(key));
            var path = $"/operations/{Uri.EscapeDataString(result.GetRequiredValue(id))}";
            var state = await OperationWatch.FollowAsync(() => policy.GetAsync(path, cancellationToken), cancellationToken);
            return state is "Completed" or "Duplicated" ? ExitCodes.Ok : ExitCodes.Failed;
        }));
        return command;
    }

    private static Command Cancel()
    {
        var (url, key, json) = (ServiceOptions.PolicyUrl(), ServiceOptions.ApiKey(), ServiceOptions.Json());
        var id = new Argument<string>("operation") { Description = "The operation's id, as `treecast ops list` shows it." };
        var reason = new Option<string?>("--reason") { Description = "Why, for the operation's history and final reason." };
        var by = new Option<string?>("--by") { Description = "Who asks (defaults to $USER), for the history." };
        var command = new Command("cancel", "Cancels a running operation: streaming stops, the root's VMs run again, partial copies are deleted. Needs an API key.")
        {
            id, url, key, json, reason, by,
        };
        command.SetAction((result, cancellationToken) => Output.GuardAsync(async () =>
        {
            using var policy = ServiceOptions.Policy(result.GetRequiredValue(url), result.GetValue(key));
            var answer = await policy.PostAsync(
                $"/operations/{Uri.EscapeDataString(result.GetRequiredValue(id))}/cancel",
                new { requestedBy = result.GetValue(by) ?? Environment.UserName, reason = result.GetValue(reason) },
                cancellationToken);
            Console.WriteLine(result.GetValue(json)
                ? answer.ToJsonString(Output.Json)
                : $"cancel of {Text(answer["operationId"])} requested by {Text(answer["requestedBy"])} (state was {Text(answer["state"])}); `treecast ops watch` follows it to Cancelled");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>An operation's final saga states are named as <see cref="OperationFinalState"/>.</summary>
    internal static bool IsFinal(string state) => Enum.TryParse<OperationFinalState>(state, out _);

    internal static void Describe(JsonObject operation)
    {
        AnsiConsole.MarkupLine($"[bold]{Text(operation["correlationId"])}[/]  {Text(operation["mode"])}  [bold]{Markup.Escape(Text(operation["currentState"]))}[/]  root {Text(operation["rootVmmId"])}");
        AnsiConsole.MarkupLine($"policy {Markup.Escape(Text(operation["policyName"]))}: {Markup.Escape(Text(operation["reason"]))}");
        AnsiConsole.MarkupLine($"requested {Time(operation["requestedAt"])}, finished {Time(operation["finishedAt"])}");
        if (operation["failureReason"] is { } failure)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(failure.ToString())}[/]");
        }

        var hosts = new Table().AddColumns("VMM", "Parent", "Bytes", "Verified", "Failure");
        foreach (var host in operation["hosts"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            hosts.AddRow(
                Text(host["vmmId"]),
                Text(host["parentVmmId"]),
                Bytes(host["bytesReceived"], host["totalBytes"]),
                host["verified"]?.GetValue<bool>() == true ? "[green]yes[/]" : "no",
                Markup.Escape(Text(host["failureReason"])));
        }

        AnsiConsole.Write(hosts);
        foreach (var step in operation["history"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            AnsiConsole.MarkupLine($"  {Time(step["at"])}  {Markup.Escape(string.Join("  ", step.Where(p => p.Key != "at").Select(p => $"{p.Value}")))}");
        }
    }

    private static string? Query(string name, string? value) => value is null ? null : $"{name}={Uri.EscapeDataString(value)}";

    internal static string Text(JsonNode? node) => node?.ToString() ?? "-";

    private static string Time(JsonNode? node) =>
        node is not null && DateTimeOffset.TryParse(node.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var at)
            ? at.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
            : "-";

    private static string Bytes(JsonNode? received, JsonNode? total)
    {
        var have = received?.GetValue<long>() ?? 0;
        var all = total?.GetValue<long>() ?? 0;
        return all > 0 ? $"{Standalone.Format.Bytes(have)} of {Standalone.Format.Bytes(all)}" : Standalone.Format.Bytes(have);
    }
}
