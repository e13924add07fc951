using System.Diagnostics;
using System.Globalization;
using Treecast.Bench.Running;

namespace Treecast.Bench.Broadcast;

/// <summary>
/// The baseline: the same bytes down a chain of plain TCP relays (<see cref="RawChainNodeCommand"/>), host 0 → 1 → … → N,
/// one process per host namespace, over the same shaped links. Timed from the first byte sent to the last host holding
/// them all.
/// </summary>
public static class RawChain
{
    private const int Port = 50999;

    public static async Task<RawChainRun> RunAsync(ShapedNetwork network, int hosts, long bytes, string temporaryDirectory, CancellationToken cancellationToken)
    {
        await using var resources = new RunResources();
        var dll = Path.Combine(AppContext.BaseDirectory, "Treecast.Bench.dll");
        string Endpoint(int host) => $"{network.HostAddress(host)}:{Port}";
        Process Start(int host, List<string> arguments) => ServiceProcesses.StartDll(
            resources,
            dll,
            new Dictionary<string, string>(),
            temporaryDirectory,
            ["raw-chain-node", "--bytes", bytes.ToString(CultureInfo.InvariantCulture), .. arguments],
            redirectOutput: true,
            network.HostNamespace(host));

        var before = Enumerable.Range(0, hosts).Select(network.BytesSent).ToArray();
        var receivers = new List<Process>();
        for (var host = hosts - 1; host >= 1; host--)
        {
            List<string> arguments = ["--listen", Endpoint(host)];
            if (host < hosts - 1)
            {
                arguments.AddRange(["--next", Endpoint(host + 1)]);
            }

            var receiver = Start(host, arguments);
            await ExpectAsync(receiver, "ready", cancellationToken);
            receivers.Add(receiver);
        }

        var first = Start(0, ["--next", Endpoint(1)]);
        await ExpectAsync(first, "ready", cancellationToken);
        await first.StandardInput.WriteLineAsync("go");
        await first.StandardInput.FlushAsync(cancellationToken);
        var sentFrom = await ExpectAsync(first, "sent-from", cancellationToken);

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromMinutes(30));
        var holds = await Task.WhenAll(receivers.Select(r => ExpectAsync(r, "holds", limit.Token)));
        await Task.WhenAll(receivers.Append(first).Select(p => p.WaitForExitAsync(limit.Token)));
        var sent = Enumerable.Range(0, hosts).Select(h => network.BytesSent(h) - before[h]).ToArray();
        return new RawChainRun(TimeSpan.FromTicks(holds.Max() - sentFrom).TotalSeconds, sent);
    }

    /// <summary>Reads the process's output until a line starting with <paramref name="word"/>; returns the number after it, if any.</summary>
    private static async Task<long> ExpectAsync(Process process, string word, CancellationToken cancellationToken)
    {
        while (await process.StandardOutput.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith(word, StringComparison.Ordinal))
            {
                var rest = line[word.Length..].Trim();
                return rest.Length == 0 ? 0 : long.Parse(rest, CultureInfo.InvariantCulture);
            }
        }

        await process.WaitForExitAsync(cancellationToken);
        throw new InvalidOperationException(
            $"A raw chain node exited ({process.ExitCode}) before saying '{word}': {await process.StandardError.ReadToEndAsync(cancellationToken)}");
    }
}
