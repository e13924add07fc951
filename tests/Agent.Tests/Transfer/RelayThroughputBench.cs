using System.Diagnostics;
using Treecast.Agent.Tests.Support;
using Xunit.Abstractions;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>
/// Measures a root → relay → leaf transfer on loopback, over mutual TLS (the default) and in cleartext
/// (<c>Agent:Tls:AllowPlaintext</c>) in the same run. Opt-in (it writes about a gigabyte per case):
/// <c>TREECAST_BENCH=1 dotnet test tests/Agent.Tests --filter RelayThroughputBench</c>; size with TREECAST_BENCH_MIB.
/// <c>bench/</c>'s <c>loopback</c> benchmark runs the same hop against a raw TCP relay.
/// </summary>
public sealed class RelayThroughputBench(ITestOutputHelper output)
{
    [SkippableTheory]
    [InlineData(256 * 1024, true)]
    [InlineData(256 * 1024, false)]
    [InlineData(1024 * 1024, true)]
    [InlineData(1024 * 1024, false)]
    [InlineData(4 * 1024 * 1024, true)]
    [InlineData(4 * 1024 * 1024, false)]
    public async Task Relay_throughput(int chunkSize, bool tls)
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("TREECAST_BENCH") == "1", "set TREECAST_BENCH=1 to measure relay throughput");
        var mib = int.TryParse(Environment.GetEnvironmentVariable("TREECAST_BENCH_MIB"), out var m) ? m : 256;

        // A first transfer in the process runs the data path as it is first jitted (unoptimized, then compiled again in
        // the background, all counted as CPU): a small relay of its own first, so the figures are the steady state's.
        var warmup = await RelayAsync(WarmupMiB, chunkSize, tls);
        var measured = await RelayAsync(mib, chunkSize, tls);
        output.WriteLine($"warm-up: {warmup}");
        output.WriteLine(measured.ToString());
    }

    private const int WarmupMiB = 48;

    private static async Task<Measurement> RelayAsync(int mib, int chunkSize, bool tls)
    {
        await using var cluster = new TransferCluster(plaintext: !tls);
        var root = await cluster.AddAsync("root", null, [("root-vm-0", mib * 1024L * 1024L)]);
        await cluster.AddAsync("relay", "root");
        await cluster.AddAsync("leaf", "relay");
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId, chunkSize);
        if (mib > WarmupMiB)
        {
            // Let the background compiler finish what the warm-up started before the clock starts.
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var gen2 = GC.CollectionCount(2);
        var allocated = GC.GetTotalAllocatedBytes();
        var watch = Stopwatch.StartNew();
        root.Engine.StartTransfer(operationId);
        await cluster.WaitForReceivedAsync(operationId, "relay", TimeSpan.FromMinutes(5));
        var relayDone = watch.Elapsed;
        await cluster.WaitForReceivedAsync(operationId, "leaf", TimeSpan.FromMinutes(5));
        var leafDone = watch.Elapsed;
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        var gen2Collections = GC.CollectionCount(2) - gen2;
        var allocatedMiB = (GC.GetTotalAllocatedBytes() - allocated) / 1048576.0;

        return new Measurement(tls, mib, chunkSize, relayDone, leafDone, cpuSeconds, gen2Collections, allocatedMiB);
    }

    private sealed record Measurement(bool Tls, int MiB, int ChunkSize, TimeSpan RelayDone, TimeSpan LeafDone, double CpuSeconds, int Gen2Collections, double AllocatedMiB)
    {
        public override string ToString() =>
            $"{(Tls ? "mutual TLS" : "cleartext")}, {MiB} MiB, chunk {ChunkSize / 1024} KiB: relay verified after {RelayDone.TotalSeconds:F2} s ({MiB / RelayDone.TotalSeconds:F0} MiB/s), " +
            $"leaf after {LeafDone.TotalSeconds:F2} s ({MiB / LeafDone.TotalSeconds:F0} MiB/s end to end), " +
            $"{CpuSeconds:F1} CPU-s ({CpuSeconds * 1024 / MiB:F1} CPU-s per GiB relayed twice), " +
            $"{Gen2Collections} gen-2 collections, {AllocatedMiB:F0} MiB allocated";
    }
}
