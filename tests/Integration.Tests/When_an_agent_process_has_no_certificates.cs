using Treecast.TestSupport.Processes;

namespace Treecast.Integration.Tests;

/// <summary>An agent deployed with neither its certificates nor the cleartext opt-out, as an operator would meet it.</summary>
public sealed class When_an_agent_process_has_no_certificates : IAsyncDisposable
{
    private readonly FleetProcesses _processes = new("treecast-no-certs-");

    public ValueTask DisposeAsync() => _processes.DisposeAsync();

    [Fact]
    public async Task Should_refuse_to_start_with_one_line_naming_the_settings_and_the_certs_command()
    {
        var agent = _processes.Start("host-01", "Agent", new Dictionary<string, string>
        {
            ["Agent__VmmId"] = "host-01",
            ["Agent__WorkDirectory"] = Path.Combine(_processes.WorkDirectory, "host-01"),
            ["Bus__Transport"] = "InMemory",
        });

        var exitCode = await agent.ExitCodeAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(2, exitCode);
        var line = Assert.Single(agent.LinesWith(string.Empty));
        Assert.StartsWith("treecast-agent: Agent host-01 has no TLS certificate: set Agent:Tls:Directory (Agent__Tls__Directory)", line, StringComparison.Ordinal);
        Assert.Contains("dotnet run --project tools/Certs -- create --out ./certs --vmm host-01", line, StringComparison.Ordinal);
        Assert.Contains("Agent__Tls__AllowPlaintext=true", line, StringComparison.Ordinal);
    }
}
