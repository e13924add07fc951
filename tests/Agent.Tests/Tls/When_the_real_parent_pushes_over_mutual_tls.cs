namespace Treecast.Agent.Tests.Tls;

/// <summary>The parent the tree names, with its own certificate and the announced token.</summary>
public sealed class When_the_real_parent_pushes_over_mutual_tls : IAsyncLifetime
{
    private AttackedFleet _fleet = null!;

    public async Task InitializeAsync() => _fleet = await AttackedFleet.StartAsync();

    public async Task DisposeAsync() => await _fleet.DisposeAsync();

    [Fact]
    public async Task Should_deliver_copies_that_verify_on_every_child()
    {
        await _fleet.AssertTheRealParentsCopyVerifiesAsync();

        Assert.Empty(_fleet.Logs.With("Refused"));
        Assert.Empty(_fleet.Logs.With("refused a TLS connection"));
    }

    [Fact]
    public void Should_advertise_https_endpoints()
    {
        Assert.All(
            new[] { AttackedFleet.Root, AttackedFleet.Child, AttackedFleet.Sibling },
            vmmId => Assert.StartsWith("https://127.0.0.1:", _fleet.Cluster[vmmId].Endpoint, StringComparison.Ordinal));
    }
}
