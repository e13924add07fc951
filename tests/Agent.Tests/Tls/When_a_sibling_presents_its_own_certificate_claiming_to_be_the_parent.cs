using Grpc.Core;

namespace Treecast.Agent.Tests.Tls;

/// <summary>A sibling, a genuine agent of the fleet with the sniffed token, pushes to the child and claims to be the parent.</summary>
public sealed class When_a_sibling_presents_its_own_certificate_claiming_to_be_the_parent : IAsyncLifetime
{
    private AttackedFleet _fleet = null!;

    public async Task InitializeAsync() => _fleet = await AttackedFleet.StartAsync();

    public async Task DisposeAsync() => await _fleet.DisposeAsync();

    [Fact]
    public async Task Should_be_refused_with_permission_denied_naming_the_certificate_and_the_claim()
    {
        var asTheSibling = _fleet.Cluster.Channel(AttackedFleet.Sibling, AttackedFleet.Child);

        var refusal = await Assert.ThrowsAsync<RpcException>(() => Support.RogueClient.PushHeaderAsync(asTheSibling, _fleet.HeaderAsTheParent()));

        Assert.Equal(StatusCode.PermissionDenied, refusal.StatusCode);
        Assert.Contains("the client certificate names sibling, the push claims to come from root", refusal.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, _fleet.HeldByTheChild());
        Assert.Single(_fleet.Logs.With("Refused push of operation"));
    }

    [Fact]
    public async Task Should_still_take_the_real_parents_push_afterwards()
    {
        var asTheSibling = _fleet.Cluster.Channel(AttackedFleet.Sibling, AttackedFleet.Child);
        await Assert.ThrowsAsync<RpcException>(() => Support.RogueClient.PushHeaderAsync(asTheSibling, _fleet.HeaderAsTheParent()));

        await _fleet.AssertTheRealParentsCopyVerifiesAsync();
    }
}
