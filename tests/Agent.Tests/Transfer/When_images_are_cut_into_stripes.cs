using Treecast.Agent.Transfer.Striping;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>The stripe arithmetic both ends of a push, the root's views and a receiver's assembly share.</summary>
public sealed class When_images_are_cut_into_stripes
{
    [Theory]
    [InlineData(1, 0)]
    [InlineData(1, 1000)]
    [InlineData(2, 0)]
    [InlineData(2, 99)]
    [InlineData(2, 100)]
    [InlineData(3, 101)]
    [InlineData(4, 250)]
    [InlineData(4, 1234)]
    [InlineData(16, 1599)]
    public void Should_map_every_byte_of_the_image_to_exactly_one_stripe_offset(int stripes, long imageBytes)
    {
        var layout = new StripeLayout(stripes, 100);
        var seen = new bool[imageBytes];
        for (var stripe = 0; stripe < stripes; stripe++)
        {
            var length = layout.LengthOf(imageBytes, stripe);
            for (var offset = 0L; offset < length; offset++)
            {
                var at = layout.ImageOffset(stripe, offset);
                Assert.InRange(at, 0, imageBytes - 1);
                Assert.False(seen[at], $"image byte {at} is in two stripes");
                seen[at] = true;
                Assert.Equal(stripe, (int)(at / 100 % stripes));
            }
        }

        Assert.All(seen, Assert.True);
    }

    [Fact]
    public void Should_keep_a_read_within_one_chunk_of_the_image()
    {
        var layout = new StripeLayout(3, 100);

        Assert.Equal(100, layout.ContiguousFrom(0));
        Assert.Equal(1, layout.ContiguousFrom(199));
        Assert.Equal(450, layout.ImageOffset(1, 150));
    }

    [Fact]
    public async Task Should_assemble_the_image_from_its_stripe_files()
    {
        var layout = new StripeLayout(3, 100);
        var image = Enumerable.Range(0, 1050).Select(i => (byte)(i * 7)).ToArray();
        var directory = Directory.CreateTempSubdirectory("treecast-stripes-").FullName;
        try
        {
            var paths = new List<string>();
            for (var stripe = 0; stripe < 3; stripe++)
            {
                var bytes = new byte[layout.LengthOf(image.Length, stripe)];
                for (var offset = 0; offset < bytes.Length; offset++)
                {
                    bytes[offset] = image[layout.ImageOffset(stripe, offset)];
                }

                paths.Add(Path.Combine(directory, $"s{stripe}"));
                await File.WriteAllBytesAsync(paths[^1], bytes);
            }

            var target = Path.Combine(directory, "image");
            var sha256 = await StripeAssembly.AssembleAsync(layout, paths, target, CancellationToken.None);

            Assert.Equal(image, await File.ReadAllBytesAsync(target));
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(image)), sha256);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
