namespace Treecast.Security.Tests;

public sealed class When_agent_credentials_are_loaded : IDisposable
{
    private readonly TemporaryFolder _temporary = new();
    private readonly CertificateFolder _folder;

    public When_agent_credentials_are_loaded()
    {
        _folder = new CertificateFolder(_temporary.File("certs"));
        _folder.Create([new AgentCertificateRequest("host-01", [])], TimeSpan.FromDays(1));
    }

    public void Dispose() => _temporary.Dispose();

    [Fact]
    public void Should_name_a_missing_file()
    {
        var missing = _temporary.File("certs", "host-01", "nothing.key");

        var refusal = Assert.Throws<CertificateMaterialException>(() => AgentCredentials.Load(File("tls.crt"), missing, File("ca.crt")));

        Assert.Equal($"{missing} does not exist.", refusal.Message);
    }

    [Fact]
    public void Should_refuse_a_certificate_the_bundle_does_not_trust()
    {
        var other = new CertificateFolder(_temporary.File("other"));
        other.Create([new AgentCertificateRequest("host-01", [])], TimeSpan.FromDays(1));

        var refusal = Assert.Throws<CertificateMaterialException>(() =>
            AgentCredentials.Load(File("tls.crt"), File("tls.key"), _temporary.File("other", "host-01", "ca.crt")));

        Assert.Contains("is not trusted by", refusal.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refusal.Message);
    }

    [Fact]
    public void Should_refuse_a_key_that_is_not_the_certificates()
    {
        var other = new CertificateFolder(_temporary.File("other"));
        other.Create([new AgentCertificateRequest("host-01", [])], TimeSpan.FromDays(1));

        var refusal = Assert.Throws<CertificateMaterialException>(() =>
            AgentCredentials.Load(File("tls.crt"), _temporary.File("other", "host-01", "tls.key"), File("ca.crt")));

        Assert.Contains("cannot be read", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_refuse_a_bundle_with_no_certificate()
    {
        var empty = _temporary.File("empty.crt");
        System.IO.File.WriteAllText(empty, "not a certificate\n");

        var refusal = Assert.Throws<CertificateMaterialException>(() => AgentCredentials.Load(File("tls.crt"), File("tls.key"), empty));

        Assert.Contains("holds no PEM certificate", refusal.Message, StringComparison.Ordinal);
    }

    private string File(string name) => _temporary.File("certs", "host-01", name);
}
