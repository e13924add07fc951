using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Time.Testing;

namespace Treecast.Security.Tests;

public sealed class When_a_peer_certificate_is_checked
{
    private readonly FleetCertificateAuthority _fleet = FleetCertificateAuthority.Create();

    [Fact]
    public void Should_refuse_a_certificate_of_another_ca_even_naming_a_fleet_vmm()
    {
        var other = FleetCertificateAuthority.Create("Treecast fleet CA");
        using var forged = other.Issue("host-01");

        var check = _fleet.Trust.Check(forged, PeerRole.Client);

        Assert.False(check.IsTrusted);
        Assert.Contains("not issued by a CA of the fleet's CA bundle", check.Problem);
    }

    [Fact]
    public void Should_refuse_no_certificate()
    {
        var check = _fleet.Trust.Check(null, PeerRole.Client);

        Assert.Equal("no certificate was presented", check.Problem);
    }

    [Fact]
    public void Should_refuse_an_expired_certificate()
    {
        var longAgo = new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(-30));
        var fleet = FleetCertificateAuthority.Create(clock: longAgo);
        using var expired = fleet.Issue("host-01", validity: TimeSpan.FromDays(2), clock: longAgo);

        var check = fleet.Trust.Check(expired, PeerRole.Server);

        Assert.Contains("expired or not yet valid", check.Problem);
    }

    [Fact]
    public void Should_refuse_the_ca_certificate_itself()
    {
        var check = _fleet.Trust.Check(_fleet.Certificate, PeerRole.Server);

        Assert.Contains("is a CA certificate", check.Problem);
    }

    [Fact]
    public void Should_refuse_a_fleet_certificate_that_names_no_vmm()
    {
        using var unnamed = SignedByTheFleet(clientAuthentication: true, vmmId: null);

        var check = _fleet.Trust.Check(unnamed, PeerRole.Client);

        Assert.Contains("names no VMM", check.Problem);
    }

    [Fact]
    public void Should_refuse_a_certificate_without_the_usage_of_its_role()
    {
        using var serverOnly = SignedByTheFleet(clientAuthentication: false, vmmId: "host-01");

        Assert.True(_fleet.Trust.Check(serverOnly, PeerRole.Server).IsTrusted);
        Assert.Contains("not valid for TLS client authentication", _fleet.Trust.Check(serverOnly, PeerRole.Client).Problem);
    }

    [Fact]
    public void Should_trust_agents_of_either_ca_while_a_rotation_trusts_both()
    {
        var next = FleetCertificateAuthority.Create("Treecast fleet CA 2");
        var both = new FleetTrust([_fleet.Certificate, next.Certificate]);
        using var old = _fleet.Issue("host-01");
        using var renewed = next.Issue("host-02");

        Assert.Equal("host-01", both.Check(old, PeerRole.Client).VmmId);
        Assert.Equal("host-02", both.Check(renewed, PeerRole.Client).VmmId);
        Assert.False(_fleet.Trust.Check(renewed, PeerRole.Client).IsTrusted);
    }

    [Fact]
    public void Should_keep_no_ca_private_key_in_a_trust()
    {
        Assert.All(_fleet.Trust.Authorities, a => Assert.False(a.HasPrivateKey));
    }

    /// <summary>A certificate the fleet CA signed but Treecast would not issue: server-only usage, or no VMM named.</summary>
    private X509Certificate2 SignedByTheFleet(bool clientAuthentication, string? vmmId)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=host-01", key, HashAlgorithmName.SHA256);
        var usage = new Oid(clientAuthentication ? "1.3.6.1.5.5.7.3.2" : "1.3.6.1.5.5.7.3.1");
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
        if (vmmId is not null)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddUri(VmmCertificateName.UriOf(vmmId));
            request.CertificateExtensions.Add(names.Build());
        }

        var now = DateTimeOffset.UtcNow;
        return request.Create(_fleet.Certificate, now.AddMinutes(-1), now.AddDays(1), [1, 2, 3]);
    }
}
