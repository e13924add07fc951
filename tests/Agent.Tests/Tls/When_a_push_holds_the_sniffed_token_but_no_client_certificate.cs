using Grpc.Core;
using Treecast.Agent.Tests.Support;

namespace Treecast.Agent.Tests.Tls;

/// <summary>Someone read the token off the bus and claims to be the parent, but has no certificate: a stolen token alone is worth nothing.</summary>
public sealed class When_a_push_holds_the_sniffed_token_but_no_client_certificate : IAsyncLifetime
{
    private AttackedFleet _fleet = null!;

    public async Task InitializeAsync() => _fleet = await AttackedFleet.StartAsync();

    public async Task DisposeAsync() => await _fleet.DisposeAsync();

    [Fact]
    public async Task Should_be_refused_in_the_handshake_before_the_receiver_sees_the_header()
    {
        using var channel = RogueClient.Channel(_fleet.Cluster[AttackedFleet.Child].Endpoint, certificate: null);

        // TLS 1.3: the client thinks the handshake done and learns of the refusal when the connection drops.
        var refusal = await Assert.ThrowsAnyAsync<Exception>(() => RogueClient.PushHeaderAsync(channel, _fleet.HeaderAsTheParent()));

        Assert.True(refusal is RpcException { StatusCode: StatusCode.Unavailable or StatusCode.Internal } or IOException, refusal.ToString());
        Assert.Equal(0, _fleet.HeldByTheChild());
        Assert.Empty(_fleet.Logs.With($"Receiving operation {_fleet.OperationId}"));
        Assert.Empty(_fleet.Logs.With("Refused push"));
    }

    [Fact]
    public async Task Should_still_take_the_real_parents_push_afterwards()
    {
        using (var channel = RogueClient.Channel(_fleet.Cluster[AttackedFleet.Child].Endpoint, certificate: null))
        {
            await Assert.ThrowsAnyAsync<Exception>(() => RogueClient.PushHeaderAsync(channel, _fleet.HeaderAsTheParent()));
        }

        await _fleet.AssertTheRealParentsCopyVerifiesAsync();
    }
}
