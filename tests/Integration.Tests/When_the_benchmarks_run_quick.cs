using System.Text.Json;
using Treecast.Integration.Tests.Processes;
using Treecast.TestSupport.Processes;

namespace Treecast.Integration.Tests;

/// <summary>
/// bench/ as a user runs it (<c>dotnet bench/.../Treecast.Bench.dll {benchmark} --quick</c>): each benchmark exits 0 and
/// writes a result file with the machine and its results. No timing is asserted: the numbers belong to the machine.
/// </summary>
public sealed class When_the_benchmarks_run_quick : IDisposable
{
    private readonly string _results = Path.Combine(Path.GetTempPath(), "treecast-bench-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Should_compare_the_relay_with_raw_tcp()
    {
        var results = await RunAsync("loopback");
        Assert.Single(results.GetProperty("rounds").EnumerateArray());
        Assert.Equal(3, results.GetProperty("median").GetArrayLength());
        foreach (var row in results.GetProperty("median").EnumerateArray())
        {
            Assert.True(row.GetProperty("miBPerSecond").GetDouble() > 0);
            Assert.True(row.TryGetProperty("cpuSecondsPerGiB", out _));
            Assert.True(row.TryGetProperty("throughputRatioToRaw", out _));
        }
    }

    [Fact]
    public async Task Should_measure_a_relay_process_feeding_two_leaves()
    {
        var results = await RunAsync("relay-memory");
        Assert.True(results.GetProperty("seconds").GetDouble() > 0);
        Assert.True(results.GetProperty("relayPeakResidentMiB").GetDouble() > results.GetProperty("relayIdleResidentMiB").GetDouble() / 2);
        Assert.True(results.TryGetProperty("relayCpuSecondsPerGiB", out _));
    }

    [Fact]
    public async Task Should_build_trees_with_the_minimum_crossing_links()
    {
        var results = await RunAsync("trees");
        Assert.Equal([1_000, 10_000], results.EnumerateArray().Select(r => r.GetProperty("vmms").GetInt32()));
        foreach (var row in results.EnumerateArray())
        {
            Assert.Equal(row.GetProperty("vmms").GetInt32(), row.GetProperty("nodes").GetInt32());
            Assert.Equal(row.GetProperty("minimumCrossLinks").GetProperty("rack").GetInt32(), row.GetProperty("crossLinks").GetProperty("rack").GetInt32());
            Assert.True(row.TryGetProperty("buildMs", out _));
            Assert.True(row.GetProperty("depth").GetInt32() > 0);
        }
    }

    [Fact]
    public async Task Should_run_the_broadcast_with_no_faulted_message()
    {
        var results = await RunAsync("saga");
        var inMemory = results.GetProperty("stores")[0];
        Assert.Equal("in-memory", inMemory.GetProperty("store").GetString());
        Assert.Equal(0, inMemory.GetProperty("faultedMessages").GetInt32());
        Assert.True(inMemory.GetProperty("allVerified").GetBoolean());
        Assert.True(inMemory.GetProperty("medianOperationMs").GetDouble() > 0);
    }

    public void Dispose()
    {
        if (Directory.Exists(_results))
        {
            Directory.Delete(_results, recursive: true);
        }
    }

    /// <summary>Runs one benchmark in quick mode and returns the <c>results</c> of the file it wrote, after checking the rest of it.</summary>
    private async Task<JsonElement> RunAsync(string benchmark)
    {
        var dll = Path.Combine(RepositoryLayout.Root, "bench", "Treecast.Bench", "bin", RepositoryLayout.Configuration, "net10.0", "Treecast.Bench.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution first");
        var (exitCode, output, log) = await StandaloneProcess.RunDllAsync(
            dll, new Dictionary<string, string>(), [benchmark, "--quick", "--results", _results], TimeSpan.FromMinutes(2));
        Assert.True(exitCode == 0, $"{benchmark} --quick exited {exitCode}\n{output}{log}");
        var file = Assert.Single(Directory.GetFiles(_results, $"{benchmark}-*.json"));
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(file));
        var root = document.RootElement;
        Assert.Equal(benchmark, root.GetProperty("benchmark").GetString());
        Assert.True(root.GetProperty("quick").GetBoolean());
        var machine = root.GetProperty("machine");
        Assert.True(machine.GetProperty("cores").GetInt32() > 0);
        Assert.True(machine.GetProperty("memoryBytes").GetInt64() > 0);
        Assert.False(string.IsNullOrEmpty(machine.GetProperty("os").GetString()));
        Assert.StartsWith(".NET", machine.GetProperty("dotNet").GetString());
        return root.GetProperty("results").Clone();
    }
}
