using Microsoft.Extensions.Hosting;
using Treecast.TestSupport;

namespace Treecast.Agent.Tests.Tls;

/// <summary>An agent configured with neither certificates nor the cleartext opt-out, or with the wrong ones, does not start.</summary>
public sealed class When_an_agent_has_no_certificates
{
    [Fact]
    public void Should_refuse_to_register_naming_the_settings_and_the_command_that_makes_certificates()
    {
        var refusal = Assert.Throws<InvalidAgentOptionsException>(() =>
            Host.CreateApplicationBuilder().AddAgentService(new AgentOptions { VmmId = "host-01" }));

        Assert.DoesNotContain('\n', refusal.Message);
        Assert.Contains("Agent:Tls:Directory", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("Agent__Tls__Directory", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("dotnet run --project tools/Certs -- create --out ./certs --vmm host-01", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("Agent:Tls:AllowPlaintext=true", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_name_the_missing_file_of_the_directory()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"treecast-no-certs-{Guid.NewGuid():N}");
        var options = new AgentOptions { VmmId = "host-01", Tls = { Directory = directory } };

        var refusal = Assert.Throws<InvalidAgentOptionsException>(() => options.Tls.Resolve(options.VmmId));

        Assert.Contains(Path.Combine(directory, "tls.crt"), refusal.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refusal.Message);
    }

    [Fact]
    public void Should_refuse_another_agents_certificate()
    {
        var options = new AgentOptions { VmmId = "host-01", Tls = { Credentials = new FleetCertificates().For("host-02") } };

        var refusal = Assert.Throws<InvalidAgentOptionsException>(() => options.Tls.Resolve(options.VmmId));

        Assert.Equal(
            "Agent host-01: its TLS certificate names VMM host-02; give it the certificate issued for host-01 (Agent:Tls:Directory), or correct Agent:VmmId.",
            refusal.Message);
    }

    [Fact]
    public void Should_start_in_cleartext_only_when_allowed()
    {
        var options = new AgentOptions { VmmId = "host-01", Tls = { AllowPlaintext = true } };

        Assert.Null(options.Tls.Resolve(options.VmmId));
    }
}
