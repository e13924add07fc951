using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Treecast.Cli;

/// <summary><c>treecast vmms</c>: the VMMs the topology service knows, from their heartbeats, with liveness.</summary>
public static class VmmsCommand
{
    public static Command Build()
    {
        var (url, json) = (ServiceOptions.TopologyUrl(), ServiceOptions.Json());
        var command = new Command("vmms", "Lists the VMMs the topology service knows: location, gRPC endpoint, live or lost, last heartbeat, and each VM's state, size, digest and MAC.") { url, json };
        command.SetAction((result, cancellationToken) => Output.GuardAsync(async () =>
        {
            using var topology = ServiceOptions.Topology(result.GetRequiredValue(url));
            var vmms = (await topology.GetAsync("/vmms", cancellationToken)).AsArray();
            if (result.GetValue(json))
            {
                Console.WriteLine(vmms.ToJsonString(Output.Json));
                return ExitCodes.Ok;
            }

            var table = new Table().AddColumns("VMM", "Location", "Endpoint", "Liveness", "Last heartbeat", "VMs");
            foreach (var vmm in vmms.OfType<JsonObject>().OrderBy(v => v["vmmId"]?.ToString(), StringComparer.Ordinal))
            {
                var lost = vmm["isLost"]?.GetValue<bool>() == true;
                table.AddRow(
                    Markup.Escape(OpsCommands.Text(vmm["vmmId"])),
                    Markup.Escape(OpsCommands.Text(vmm["location"])),
                    Markup.Escape(OpsCommands.Text(vmm["grpcEndpoint"])),
                    lost ? "[red]lost[/]" : "[green]live[/]",
                    DateTimeOffset.TryParse(vmm["lastSeenAt"]?.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var at)
                        ? at.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture)
                        : "-",
                    Markup.Escape(Vms(vmm)));
            }

            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>One line per VM: id, state, size, the digest's first 12 characters, MAC (ids alone from older agents).</summary>
    private static string Vms(JsonObject vmm) =>
        vmm["vms"] is JsonArray vms
            ? string.Join('\n', vms.OfType<JsonObject>().Select(v =>
                $"{v["vmId"]} {v["state"]} {Standalone.Format.Bytes(v["bytes"]?.GetValue<long>() ?? 0)} "
                + $"{(v["sha256"]?.GetValue<string>() is { Length: >= 12 } sha ? sha[..12] : "-")} {v["macAddress"] ?? "-"}"))
            : string.Join(", ", vmm["vmIds"]?.AsArray().Select(v => v?.ToString()) ?? []);
}
