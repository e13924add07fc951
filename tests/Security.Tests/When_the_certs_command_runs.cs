using System.Diagnostics;

namespace Treecast.Security.Tests;

/// <summary>The <c>Treecast.Certs</c> command as an operator runs it: exit codes and what it prints.</summary>
public sealed class When_the_certs_command_runs : IDisposable
{
    private readonly TemporaryFolder _temporary = new();

    public void Dispose() => _temporary.Dispose();

    [Fact]
    public async Task Should_create_a_fleet_and_add_an_agent_on_a_second_run()
    {
        var certs = _temporary.File("certs");

        var first = await RunAsync("create", "--out", certs, "--vmm", "host-01=agent-1", "--vmm", "host-02");
        var second = await RunAsync("create", "--out", certs, "--vmm", "host-03");

        Assert.Equal(0, first.ExitCode);
        Assert.Contains("CA: created", first.Output, StringComparison.Ordinal);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("CA: kept", second.Output, StringComparison.Ordinal);
        Assert.Contains("host-03: issued", second.Output, StringComparison.Ordinal);
        Assert.Equal("host-03", AgentCredentials.Load(
            _temporary.File("certs", "host-03", "tls.crt"), _temporary.File("certs", "host-03", "tls.key"), _temporary.File("certs", "host-03", "ca.crt")).VmmId);
    }

    [Theory]
    [InlineData("--vmm", "../x", "VMM id '../x' cannot name an agent's directory")]
    [InlineData("--days", "0", "--days 0 is out of range")]
    [InlineData("--days", "many", "'many'")]
    [InlineData("--also-trust", "/nonexistent/ca.crt", "--also-trust /nonexistent/ca.crt does not exist")]
    public async Task Should_answer_bad_input_with_one_line_and_a_failing_exit_code(string option, string value, string expected)
    {
        var run = await RunAsync("create", "--out", _temporary.File("certs"), option, value);

        Assert.NotEqual(0, run.ExitCode);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("treecast-certs: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Treecast.Certs.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        return (process.ExitCode, await output, await error);
    }
}
