using System.Text.Json;
using Treecast.Integration.Tests.Processes;
using Treecast.TestSupport.Processes;

namespace Treecast.Integration.Tests;

/// <summary>The README's first command, run as a user runs it: a process, its JSON summary and its exit code.</summary>
public sealed class When_the_embedded_default_runs
{
    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    public async Task Should_broadcast_every_root_vm_to_every_host_with_the_roots_digest(string stripes)
    {
        var (exitCode, summary, output) = await StandaloneProcess.RunAsync(
            "--hosts", "6", "--racks", "2", "--vms", "2", "--image-mib", "8", "--chunk-kib", "256", "--stripes", stripes, "--json");

        Assert.True(exitCode == 0, $"exit code {exitCode}\n{output}");
        var root = summary.RootElement;
        Assert.Equal("broadcast", root.GetProperty("mode").GetString());
        Assert.Equal("Completed", root.GetProperty("state").GetString());
        Assert.Equal("host-01", root.GetProperty("root").GetString());
        Assert.Equal(6, root.GetProperty("tree").GetArrayLength());
        var vms = root.GetProperty("vms").EnumerateArray().ToDictionary(v => v.GetProperty("vm").GetString()!, v => v.GetProperty("sha256").GetString()!);
        Assert.Equal(2, vms.Count);
        Assert.All(root.GetProperty("vms").EnumerateArray(), v => Assert.Equal(8L << 20, v.GetProperty("bytes").GetInt64()));
        var hosts = root.GetProperty("hosts").EnumerateArray().ToList();
        Assert.Equal(6, hosts.Count);
        foreach (var host in hosts)
        {
            var held = host.GetProperty("vms").EnumerateArray().ToList();
            Assert.Equal(vms.Keys.Order(), held.Select(v => v.GetProperty("vm").GetString()!).Order());
            Assert.All(held, v =>
            {
                Assert.Equal(vms[v.GetProperty("vm").GetString()!], v.GetProperty("sha256").GetString());
                Assert.Equal("Paused", v.GetProperty("state").GetString());
            });
        }
    }

    [Fact]
    public async Task Should_duplicate_and_run_every_vm_everywhere_when_the_deadline_passes()
    {
        var (exitCode, summary, output) = await StandaloneProcess.RunAsync(
            "--hosts", "4", "--racks", "2", "--vms", "2", "--image-mib", "4", "--workload-seconds", "30", "--deadline-seconds", "1", "--json");

        Assert.True(exitCode == 0, $"exit code {exitCode}\n{output}");
        var root = summary.RootElement;
        Assert.Equal("duplicate", root.GetProperty("mode").GetString());
        Assert.Equal("Duplicated", root.GetProperty("state").GetString());
        var hosts = root.GetProperty("hosts").EnumerateArray().ToList();
        Assert.Equal(4, hosts.Count);
        Assert.All(hosts, h =>
        {
            Assert.Equal(2, h.GetProperty("vms").GetArrayLength());
            Assert.All(h.GetProperty("vms").EnumerateArray(), v => Assert.Equal("Running", v.GetProperty("state").GetString()));
        });
    }

    [Fact]
    public async Task Should_refuse_a_bad_option_naming_it_and_the_fix()
    {
        var (exitCode, _, output) = await StandaloneProcess.RunAsync(expectJson: false, "--hosts", "zero");

        Assert.Equal(2, exitCode);
        Assert.Contains("--hosts 'zero' is not a whole number", output);
    }
}
