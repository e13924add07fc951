using Grpc.Core;
using Treecast.Agent.Tests.Support;
using Treecast.Security;

namespace Treecast.Agent.Tests.Tls;

/// <summary>An attacker made a CA of their own and issued a certificate naming the parent, and holds the sniffed token.</summary>
public sealed class When_a_certificate_of_another_ca_names_the_parent : IAsyncLifetime
{
    private AttackedFleet _fleet = null!;

    public async Task InitializeAsync() => _fleet = await AttackedFleet.StartAsync();

    public async Task DisposeAsync() => await _fleet.DisposeAsync();

    [Fact]
    public async Task Should_be_refused_in_the_handshake_and_say_why()
    {
        var forger = FleetCertificateAuthority.Create("Treecast test fleet CA");
        using var forged = forger.Issue(AttackedFleet.Root, ["127.0.0.1"]);
        using var channel = RogueClient.Channel(_fleet.Cluster[AttackedFleet.Child].Endpoint, forged);

        // TLS 1.3: the client thinks the handshake done and learns of the refusal when the connection drops.
        var refusal = await Assert.ThrowsAnyAsync<Exception>(() => RogueClient.PushHeaderAsync(channel, _fleet.HeaderAsTheParent()));

        Assert.True(refusal is RpcException { StatusCode: StatusCode.Unavailable or StatusCode.Internal } or IOException, refusal.ToString());
        Assert.Equal(0, _fleet.HeldByTheChild());
        Assert.Empty(_fleet.Logs.With($"Receiving operation {_fleet.OperationId}"));
        Assert.Contains(
            _fleet.Logs.With("child refused a TLS connection"),
            l => l.Contains("certificate 'CN=root' is refused: not issued by a CA of the fleet's CA bundle", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Should_still_take_the_real_parents_push_afterwards()
    {
        var forger = FleetCertificateAuthority.Create();
        using var forged = forger.Issue(AttackedFleet.Root);
        using (var channel = RogueClient.Channel(_fleet.Cluster[AttackedFleet.Child].Endpoint, forged))
        {
            await Assert.ThrowsAnyAsync<Exception>(() => RogueClient.PushHeaderAsync(channel, _fleet.HeaderAsTheParent()));
        }

        await _fleet.AssertTheRealParentsCopyVerifiesAsync();
    }
}
