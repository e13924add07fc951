using Treecast.Topology.Trees;

namespace Treecast.Topology.Tests.Trees;

public sealed class When_picking_the_default_fan_out
{
    private const int Chunk = 1024 * 1024;

    [Theory]
    [InlineData(7, 128)]
    [InlineData(15, 128)]
    [InlineData(15, 256)]
    [InlineData(30, 256)]
    [InlineData(200, 4096)]
    public void Should_pick_a_chain_while_the_images_are_large_against_the_number_of_hosts(int receivers, long imageMiB) =>
        Assert.Equal(1, FanOutChoice.For(receivers, imageMiB << 20, Chunk));

    [Theory]
    [InlineData(100_000, 4096)]
    [InlineData(1_000, 64)]
    [InlineData(100, 16)]
    public void Should_pick_a_fan_out_of_two_when_a_chain_would_be_deep_against_the_images(int receivers, long imageMiB) =>
        Assert.Equal(2, FanOutChoice.For(receivers, imageMiB << 20, Chunk));

    [Fact]
    public void Should_pick_a_fan_out_of_two_when_the_image_size_is_unknown() =>
        Assert.Equal(FanOutChoice.WhenSizeUnknown, FanOutChoice.For(50, 0, Chunk));

    [Fact]
    public void Should_weigh_the_chunk_size_as_the_pipeline_fill_of_every_level()
    {
        // 20 receivers and 128 MiB: a chain of 1 MiB chunks fills in 20 × 5 MiB, of 16 MiB chunks in 20 × 20 MiB.
        Assert.Equal(1, FanOutChoice.For(20, 128L << 20, Chunk));
        Assert.Equal(2, FanOutChoice.For(20, 128L << 20, 16 * Chunk));
    }

    [Fact]
    public void Should_model_a_chain_as_the_image_once_plus_a_fill_per_host()
    {
        var chain = FanOutChoice.ModelledTime(1, 10, 100L << 20, Chunk);
        Assert.Equal((100.0 * Chunk) + (10 * (Chunk + FanOutChoice.HopDelayBytes)), chain);
        Assert.Equal(4, FanOutChoice.Depth(2, 15));
        Assert.Equal(3, FanOutChoice.Depth(2, 14));
        Assert.Equal(16, FanOutChoice.Depth(2, 100_000));
    }
}
