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
        var workDirectory = Path.Combine(Path.GetTempPath(), "treecast-agent-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(workDirectory);
        try
        {
            await using var relay = await LoopbackRelay.StartAsync(workDirectory, mib * 1024L * 1024L, plaintext: !tls);
            var timing = await relay.TransferAsync(chunkSize, TimeSpan.FromMinutes(5));
            var (relayDone, leafDone, cpuSeconds) = (timing.RelayVerified, timing.LeafVerified, timing.ProcessCpu.TotalSeconds);

            output.WriteLine(
                $"{(tls ? "mutual TLS" : "cleartext")}, {mib} MiB, chunk {chunkSize / 1024} KiB: relay verified after {relayDone.TotalSeconds:F2} s ({mib / relayDone.TotalSeconds:F0} MiB/s), " +
                $"leaf after {leafDone.TotalSeconds:F2} s ({mib / leafDone.TotalSeconds:F0} MiB/s end to end), " +
                $"{cpuSeconds:F1} CPU-s ({cpuSeconds * 1024 / mib:F1} CPU-s per GiB relayed twice)");
        }
        finally
        {
            Directory.Delete(workDirectory, recursive: true);
        }
    }
}
