namespace Treecast.Policy.Tests.Sagas;

public sealed class When_the_confirm_timeout_is_configured : DeadlineWatchSpecification
{
    protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["Policy:Deadline:ConfirmTimeout"] = "00:00:45",
    };

    [Fact]
    public async Task Should_wait_that_long_for_the_root_agent()
    {
        var watchId = await WatchDeadline("wl-1");
        await PassDeadlineUnrecorded(watchId);

        var timer = await ConfirmTimer(watchId);

        Assert.Equal(Clock.GetUtcNow() + TimeSpan.FromSeconds(45), timer.FireAt);
    }
}
