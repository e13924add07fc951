using Treecast.Contracts;

namespace Treecast.Agent.Transfer.Striping;

/// <summary>
/// One stripe of a sealed image as the root pushes it: reads map the stripe's offsets to the image's (one chunk's bytes
/// at a time), and the stripe ends sealed with its size and the root's digest of it (<see cref="RootStripes"/>).
/// </summary>
public sealed class StripeImageSource(ImageSource image, StripeLayout layout, int stripe, VmImage vm, Func<CancellationToken, Task<string>> digest)
    : ImageSource
{
    private readonly long _bytes = layout.LengthOf(vm.Bytes, stripe);

    protected override async ValueTask<int> ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (offset >= _bytes)
        {
            return 0;
        }

        var length = (int)Math.Min(Math.Min(buffer.Length, layout.ContiguousFrom(offset)), _bytes - offset);
        return await image.ReadAsync(layout.ImageOffset(stripe, offset), buffer[..length], cancellationToken);
    }

    protected override async Task<VmImage> SealedCoreAsync(CancellationToken cancellationToken) =>
        new(vm.VmId, _bytes, await digest(cancellationToken), vm.Definition);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            image.Dispose();
        }
    }
}
