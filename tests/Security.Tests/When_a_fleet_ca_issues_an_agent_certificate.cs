using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Treecast.Security.Tests;

public sealed class When_a_fleet_ca_issues_an_agent_certificate
{
    private readonly FleetCertificateAuthority _ca = FleetCertificateAuthority.Create();

    [Fact]
    public void Should_name_the_vmm_in_the_common_name_and_the_treecast_uri()
    {
        using var issued = _ca.Issue("host-01");

        Assert.Equal("CN=host-01", issued.Subject);
        Assert.Equal("host-01", VmmCertificateName.VmmIdOf(issued));
        Assert.True(issued.HasPrivateKey);
    }

    [Fact]
    public void Should_carry_host_names_and_addresses_as_dns_and_ip_names()
    {
        using var issued = _ca.Issue("host-01", ["agent-1", "10.0.0.5", "::1"]);

        var names = issued.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["agent-1"], names.EnumerateDnsNames());
        Assert.Equal([IPAddress.Parse("10.0.0.5"), IPAddress.IPv6Loopback], names.EnumerateIPAddresses());
    }

    [Fact]
    public void Should_be_trusted_for_both_tls_client_and_server_authentication()
    {
        using var issued = _ca.Issue("host-01");

        Assert.Equal(PeerCheck.Trusted("host-01"), _ca.Trust.Check(issued, PeerRole.Client));
        Assert.Equal(PeerCheck.Trusted("host-01"), _ca.Trust.Check(issued, PeerRole.Server));
    }

    [Fact]
    public void Should_not_outlive_the_ca()
    {
        var shortLived = FleetCertificateAuthority.Create(validity: TimeSpan.FromDays(10));

        using var issued = shortLived.Issue("host-01", validity: TimeSpan.FromDays(365));

        Assert.True(issued.NotAfter <= shortLived.Certificate.NotAfter);
    }

    [Fact]
    public void Should_use_ecdsa_p256_and_never_mark_the_agent_a_ca()
    {
        using var issued = _ca.Issue("host-01");

        using var key = issued.GetECDsaPublicKey();
        Assert.Equal(256, key!.KeySize);
        Assert.False(issued.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.True(_ca.Certificate.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
    }
}
