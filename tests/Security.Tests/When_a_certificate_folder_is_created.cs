using System.Security.Cryptography.X509Certificates;

namespace Treecast.Security.Tests;

public sealed class When_a_certificate_folder_is_created : IDisposable
{
    private static readonly TimeSpan Year = TimeSpan.FromDays(365);
    private readonly TemporaryFolder _temporary = new();
    private readonly CertificateFolder _folder;

    public When_a_certificate_folder_is_created() => _folder = new CertificateFolder(_temporary.File("certs"));

    public void Dispose() => _temporary.Dispose();

    [Fact]
    public void Should_write_the_ca_apart_and_each_agent_a_folder_its_credentials_load_from()
    {
        _folder.Create([Agent("host-01"), Agent("host-02")], Year);

        Assert.True(File.Exists(_temporary.File("certs", "ca", "ca.crt")));
        Assert.True(File.Exists(_temporary.File("certs", "ca", "ca.key")));
        foreach (var vmmId in new[] { "host-01", "host-02" })
        {
            Assert.Equal(["ca.crt", "tls.crt", "tls.key"], Directory.GetFiles(_folder.AgentDirectory(vmmId)).Select(Path.GetFileName).Order());
            var credentials = Load(vmmId);
            Assert.Equal(vmmId, credentials.VmmId);
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Should_write_keys_readable_by_their_owner_only()
    {
        _folder.Create([Agent("host-01")], Year);

        var owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(owner, File.GetUnixFileMode(_folder.CaKeyFile));
        Assert.Equal(owner, File.GetUnixFileMode(_temporary.File("certs", "host-01", "tls.key")));
    }

    [Fact]
    public void Should_keep_the_ca_and_valid_certificates_and_add_the_missing_agents_when_run_again()
    {
        _folder.Create([Agent("host-01")], Year);
        var ca = Thumbprint(_folder.CaCertificateFile);
        var first = Thumbprint(_temporary.File("certs", "host-01", "tls.crt"));

        var said = _folder.Create([Agent("host-01"), Agent("host-02")], Year);

        Assert.Equal(ca, Thumbprint(_folder.CaCertificateFile));
        Assert.Equal(first, Thumbprint(_temporary.File("certs", "host-01", "tls.crt")));
        Assert.Contains(said, l => l.StartsWith("host-01: kept", StringComparison.Ordinal));
        Assert.Contains(said, l => l.StartsWith("host-02: issued", StringComparison.Ordinal));
        Assert.Equal("host-02", Load("host-02").VmmId);
    }

    [Fact]
    public void Should_reissue_when_asked_to_renew_keeping_the_host_names()
    {
        _folder.Create([new AgentCertificateRequest("host-01", ["agent-1"])], Year);
        var first = Thumbprint(_temporary.File("certs", "host-01", "tls.crt"));

        var said = _folder.Create([], Year, renew: true);

        var renewed = X509CertificateLoader.LoadCertificateFromFile(_temporary.File("certs", "host-01", "tls.crt"));
        Assert.NotEqual(first, renewed.Thumbprint);
        Assert.Equal(["agent-1"], renewed.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        Assert.Contains(said, l => l.StartsWith("host-01: renewed", StringComparison.Ordinal));
    }

    [Fact]
    public void Should_reissue_a_certificate_whose_key_went_missing()
    {
        _folder.Create([Agent("host-01")], Year);
        File.Delete(_temporary.File("certs", "host-01", "tls.key"));

        var said = _folder.Create([Agent("host-01")], Year);

        Assert.Contains(said, l => l.StartsWith("host-01: reissued (tls.key is missing)", StringComparison.Ordinal));
        Assert.Equal("host-01", Load("host-01").VmmId);
    }

    [Fact]
    public void Should_keep_the_ca_in_a_directory_of_its_own_when_given()
    {
        var apart = new CertificateFolder(_temporary.File("agents"), _temporary.File("ca-only"));

        apart.Create([Agent("host-01")], Year);

        Assert.True(File.Exists(_temporary.File("ca-only", "ca.key")));
        Assert.False(Directory.Exists(_temporary.File("agents", "ca")));
        Assert.Equal("host-01", AgentCredentials.Load(
            _temporary.File("agents", "host-01", "tls.crt"), _temporary.File("agents", "host-01", "tls.key"), _temporary.File("agents", "host-01", "ca.crt")).VmmId);
    }

    [Fact]
    public void Should_bundle_another_ca_for_a_rotation_into_every_agents_ca_file()
    {
        _folder.Create([Agent("host-01")], Year);
        var next = FleetCertificateAuthority.Create("Treecast fleet CA 2");

        _folder.Create([Agent("host-02")], Year, alsoTrusted: [next.Certificate]);

        foreach (var vmmId in new[] { "host-01", "host-02" })
        {
            var trust = FleetTrust.Load(_temporary.File("certs", vmmId, "ca.crt"));
            using var fromNext = next.Issue("host-03");
            Assert.Equal("host-03", trust.Check(fromNext, PeerRole.Client).VmmId);
        }
    }

    [Theory]
    [InlineData("../escape", "cannot name an agent's directory")]
    [InlineData("", "cannot name an agent's directory")]
    [InlineData("ca", "would share the CA's directory")]
    public void Should_refuse_an_id_that_cannot_name_an_agent_folder_in_one_line(string vmmId, string problem)
    {
        var refusal = Assert.Throws<CertificateMaterialException>(() => _folder.Create([Agent(vmmId)], Year));

        Assert.Contains(problem, refusal.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refusal.Message);
        Assert.False(Directory.Exists(_folder.CaDirectory));
    }

    [Fact]
    public void Should_refuse_a_ca_certificate_whose_key_is_missing_rather_than_start_another_ca()
    {
        _folder.Create([Agent("host-01")], Year);
        File.Delete(_folder.CaKeyFile);

        var refusal = Assert.Throws<CertificateMaterialException>(() => _folder.Create([Agent("host-02")], Year));

        Assert.Contains(_folder.CaKeyFile, refusal.Message, StringComparison.Ordinal);
        Assert.Contains("restore it", refusal.Message, StringComparison.Ordinal);
    }

    private static AgentCertificateRequest Agent(string vmmId) => new(vmmId, []);

    private static string Thumbprint(string file) => X509CertificateLoader.LoadCertificateFromFile(file).Thumbprint;

    private AgentCredentials Load(string vmmId)
    {
        var directory = _folder.AgentDirectory(vmmId);
        return AgentCredentials.Load(Path.Combine(directory, "tls.crt"), Path.Combine(directory, "tls.key"), Path.Combine(directory, "ca.crt"));
    }
}
