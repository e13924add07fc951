using System.Text.Json;
using Treecast.Integration.Tests.Processes;
using Treecast.TestSupport.Processes;

namespace Treecast.Integration.Tests;

/// <summary>
/// <c>treecast</c> without a fleet: the embedded run, policy files, and the one-line answers to mistakes and to a service
/// that is not there. Against separate services on RabbitMQ: <see cref="When_external_json_events_reach_the_separate_services"/>.
/// </summary>
public sealed class When_the_treecast_command_is_used
{
    [Fact]
    public async Task Should_run_the_embedded_broadcast_with_options_written_with_equals()
    {
        var (exitCode, output, error) = await CliProcess.RunAsync("run", "--hosts=4", "--racks=2", "--vms=1", "--image-mib=4", "--json");

        Assert.True(exitCode == 0, $"exit code {exitCode}\n{output}\n{error}");
        using var summary = JsonDocument.Parse(output);
        Assert.Equal("Completed", summary.RootElement.GetProperty("state").GetString());
        Assert.True(summary.RootElement.GetProperty("verified").GetBoolean());
        Assert.Equal(4, summary.RootElement.GetProperty("hosts").GetArrayLength());
    }

    [Fact]
    public async Task Should_suggest_the_option_a_typo_meant()
    {
        var (exitCode, _, error) = await CliProcess.RunAsync("run", "--hots", "3");

        Assert.Equal(2, exitCode);
        Assert.Contains("Did you mean '--hosts'", error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Should_refuse_a_nan_deadline_as_the_embedded_run_does()
    {
        var (exitCode, _, error) = await CliProcess.RunAsync("run", "--workload-seconds", "NaN");

        Assert.Equal(2, exitCode);
        Assert.Contains("--workload-seconds 'NaN' is not a number of seconds", error);
    }

    [Fact]
    public async Task Should_validate_policy_files_with_the_policy_services_loader()
    {
        var bad = Path.Combine(Directory.CreateTempSubdirectory("treecast-cli-").FullName, "bad.yaml");
        await File.WriteAllTextAsync(bad, "policies:\n  - name: x\n    on: { type: host.exploded }\n    actions: [ { broadcast: {} } ]\n");
        try
        {
            var good = await CliProcess.RunAsync("policies", "validate", Path.Combine(RepositoryLayout.Root, "infra", "policies"));
            var mixed = await CliProcess.RunAsync("policies", "validate", Path.Combine(RepositoryLayout.Root, "infra", "policies"), bad);

            Assert.True(good.ExitCode == 0, good.Output + good.Error);
            Assert.Contains("broadcast-on-degraded-host", good.Output);
            Assert.Equal(1, mixed.ExitCode);
            Assert.Contains($"{bad}:3:", mixed.Error);
            Assert.Contains("unknown event type 'host.exploded'", mixed.Error);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(bad)!, recursive: true);
        }
    }

    [Fact]
    public async Task Should_say_in_one_line_when_the_policy_service_is_not_there()
    {
        var (exitCode, _, error) = await CliProcess.RunAsync("ops", "list", "--policy-url", "http://127.0.0.1:1");

        Assert.Equal(3, exitCode);
        Assert.Contains("cannot reach the policy service at http://127.0.0.1:1/", error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
