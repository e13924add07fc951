using System.Diagnostics;
using System.Globalization;
using Treecast.Bench.Running;

namespace Treecast.Bench.Broadcast;

/// <summary>
/// The benchmark's own network: a Linux bridge <c>{prefix}-br</c> in the root namespace holding <c>x.x.x.1</c> of a free
/// <c>10.213.x.0/24</c>, one network namespace per host (<c>{prefix}-h00</c>, the root VMM's, to <c>{prefix}-hNN</c>) and
/// one for the control services (<c>{prefix}-ctl</c>), each on a veth into the bridge. Every host's egress (its veth
/// inside its namespace) is shaped by <c>tc tbf</c>; the control namespace is not. Everything is removed with the run,
/// and whatever an earlier run with the same prefix left (it was killed) is removed before this one starts.
/// </summary>
public sealed class ShapedNetwork
{
    /// <summary>A burst below 2 mbit costs about a third of the rate on these machines (issue 9).</summary>
    public const string Burst = "2mbit";

    private const string Device = "eth0";

    private ShapedNetwork(string prefix, int subnet, int hosts)
    {
        Prefix = prefix;
        Subnet = subnet;
        Hosts = hosts;
    }

    public string Prefix { get; }

    /// <summary>The third octet of <c>10.213.x.0/24</c>.</summary>
    public int Subnet { get; }

    /// <summary>Host namespaces, the root VMM's included.</summary>
    public int Hosts { get; }

    /// <summary>The bridge's address in the root namespace: RabbitMQ is reached there from every namespace.</summary>
    public string BridgeAddress => Address(1);

    public string ControlNamespace => $"{Prefix}-ctl";

    public string ControlAddress => Address(254);

    public string HostNamespace(int host) => $"{Prefix}-h{host:D2}";

    public string HostAddress(int host) => Address(10 + host);

    /// <summary>The host's veth in the root namespace: what it receives is what the host sent.</summary>
    public string HostPeer(int host) => HostNamespace(host);

    /// <summary>Creates the network (after removing an earlier run's leftovers) and registers its removal with the run.</summary>
    public static async Task<ShapedNetwork> CreateAsync(RunResources resources, string prefix, int hosts, CancellationToken cancellationToken)
    {
        await RemoveLeftoversAsync(prefix, cancellationToken);
        var network = new ShapedNetwork(prefix, await FreeSubnetAsync(cancellationToken), hosts);
        resources.OnRelease(() => RemoveLeftoversAsync(prefix, CancellationToken.None));
        await IpAsync(cancellationToken, "link", "add", $"{prefix}-br", "type", "bridge");
        await IpAsync(cancellationToken, "addr", "add", $"{network.BridgeAddress}/24", "dev", $"{prefix}-br");
        await IpAsync(cancellationToken, "link", "set", $"{prefix}-br", "up");
        await network.AddNamespaceAsync(network.ControlNamespace, network.ControlAddress, cancellationToken);
        for (var host = 0; host < hosts; host++)
        {
            await network.AddNamespaceAsync(network.HostNamespace(host), network.HostAddress(host), cancellationToken);
        }

        return network;
    }

    /// <summary>Limits every host's egress to <paramref name="mbit"/> (replacing the previous limit).</summary>
    public async Task ShapeAsync(int mbit, CancellationToken cancellationToken)
    {
        for (var host = 0; host < Hosts; host++)
        {
            await RunAsync(
                "ip",
                cancellationToken,
                "netns", "exec", HostNamespace(host), "tc", "qdisc", "replace", "dev", Device, "root", "tbf",
                "rate", $"{mbit}mbit", "burst", Burst, "latency", "100ms");
        }
    }

    /// <summary>Bytes host <paramref name="host"/> has sent so far (its veth's peer in the root namespace received them).</summary>
    public long BytesSent(int host) =>
        long.Parse(File.ReadAllText($"/sys/class/net/{HostPeer(host)}/statistics/rx_bytes").Trim(), CultureInfo.InvariantCulture);

    /// <summary>Namespaces and links named <c>{prefix}-…</c>, and every process still running in those namespaces.</summary>
    public static async Task RemoveLeftoversAsync(string prefix, CancellationToken cancellationToken)
    {
        var namespaces = (await RunAsync("ip", cancellationToken, "netns", "list"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ')[0])
            .Where(name => name.StartsWith($"{prefix}-", StringComparison.Ordinal));
        foreach (var name in namespaces)
        {
            await KillProcessesInAsync(name, cancellationToken);
            await RunAsync("ip", cancellationToken, "netns", "delete", name);
        }

        // Deleting a namespace deletes the veth ends inside it and so their peers; the bridge is left.
        var links = (await RunAsync("ip", cancellationToken, "-o", "link", "show"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':', 3)[1].Trim().Split('@')[0])
            .Where(name => name.StartsWith($"{prefix}-", StringComparison.Ordinal));
        foreach (var link in links)
        {
            try
            {
                await RunAsync("ip", cancellationToken, "link", "delete", link);
            }
            catch (InvalidOperationException) when (!File.Exists($"/sys/class/net/{link}/ifindex"))
            {
                // A veth peer goes with its namespace, a moment after the namespace is deleted.
            }
        }
    }

    /// <summary>Runs a command and returns its standard output; throws with its error output when it fails.</summary>
    public static Task<string> RunAsync(string program, CancellationToken cancellationToken, params string[] arguments) =>
        ExternalCommand.RunAsync(program, null, cancellationToken, arguments);

    private string Address(int last) => $"10.213.{Subnet}.{last}";

    private async Task AddNamespaceAsync(string name, string address, CancellationToken cancellationToken)
    {
        await IpAsync(cancellationToken, "netns", "add", name);
        await IpAsync(cancellationToken, "link", "add", name, "type", "veth", "peer", "name", $"{name}-n", "netns", name);
        await IpAsync(cancellationToken, "link", "set", name, "master", $"{Prefix}-br", "up");
        await IpAsync(cancellationToken, "-n", name, "link", "set", $"{name}-n", "name", Device);
        await IpAsync(cancellationToken, "-n", name, "addr", "add", $"{address}/24", "dev", Device);
        await IpAsync(cancellationToken, "-n", name, "link", "set", Device, "up");
        await IpAsync(cancellationToken, "-n", name, "link", "set", "lo", "up");
    }

    private static async Task KillProcessesInAsync(string name, CancellationToken cancellationToken)
    {
        var pids = (await RunAsync("ip", cancellationToken, "netns", "pids", name))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(int.Parse);
        foreach (var pid in pids)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            }
            catch (ArgumentException)
            {
                // It had already gone.
            }
        }
    }

    /// <summary>The first <c>10.213.x.0/24</c> no address or route of the machine touches.</summary>
    private static async Task<int> FreeSubnetAsync(CancellationToken cancellationToken)
    {
        var used = await RunAsync("ip", cancellationToken, "-4", "addr", "show") + await RunAsync("ip", cancellationToken, "-4", "route", "show", "table", "all");
        if (used.Contains(" 10.0.0.0/8", StringComparison.Ordinal) || used.Contains(" 10.213.0.0/16", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("10.213.0.0/16 is routed on this machine already; the broadcast benchmark needs a free 10.213.x.0/24 for its bridge.");
        }

        for (var subnet = 0; subnet < 256; subnet++)
        {
            if (!used.Contains($"10.213.{subnet}.", StringComparison.Ordinal))
            {
                return subnet;
            }
        }

        throw new InvalidOperationException("No free 10.213.x.0/24 on this machine for the benchmark's bridge.");
    }

    private static Task IpAsync(CancellationToken cancellationToken, params string[] arguments) => RunAsync("ip", cancellationToken, arguments);

    public override string ToString() => $"bridge {Prefix}-br {BridgeAddress}/24, {Hosts} host namespaces and {ControlNamespace}";
}
