using System.Diagnostics;
using Treecast.Agent.Tests.Support;
using Xunit.Abstractions;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>
/// Measures a root → relay → leaf transfer on loopback, over mutual TLS (the default) and in cleartext
/// (<c>Agent:Tls:AllowPlaintext</c>) in the same run. Opt-in (it writes about a gigabyte per case):
/// <c>TREECAST_BENCH=1 dotnet test tests/Agent.Tests --filter RelayThroughputBench</c>; size with TREECAST_BENCH_MIB.
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
        await using var cluster = new TransferCluster(plaintext: !tls);
        var root = await cluster.AddAsync("root", null, [("root-vm-0", mib * 1024L * 1024L)]);
        await cluster.AddAsync("relay", "root");
        await cluster.AddAsync("leaf", "relay");
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId, chunkSize);

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

        output.WriteLine(
            $"{(tls ? "mutual TLS" : "cleartext")}, {mib} MiB, chunk {chunkSize / 1024} KiB: relay verified after {relayDone.TotalSeconds:F2} s ({mib / relayDone.TotalSeconds:F0} MiB/s), " +
            $"leaf after {leafDone.TotalSeconds:F2} s ({mib / leafDone.TotalSeconds:F0} MiB/s end to end), " +
            $"{cpuSeconds:F1} CPU-s ({cpuSeconds * 1024 / mib:F1} CPU-s per GiB relayed twice), " +
            $"{gen2Collections} gen-2 collections, {allocatedMiB:F0} MiB allocated");
    }
}
