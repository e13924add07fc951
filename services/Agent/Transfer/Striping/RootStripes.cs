using System.Buffers;
using System.Security.Cryptography;
using Treecast.Agent.Vmm;
using Treecast.Contracts;

namespace Treecast.Agent.Transfer.Striping;

/// <summary>
/// The root's images of one striped operation, as its forwarders push them: a view of each stripe of each image, and each
/// stripe's SHA-256, which a stripe's end marker carries (a receiver verifies every stripe before relaying its end, and
/// the assembled image against the manifest). The digests take one pass over each image, started with the first view.
/// </summary>
public sealed class RootStripes(IVmm vmm, IReadOnlyList<VmImage> vms, StripeLayout layout)
{
    private readonly Lazy<Task<string[]>>[] _digests = vms
        .Select(vm => new Lazy<Task<string[]>>(() => Task.Run(() => DigestStripesAsync(vmm, vm, layout))))
        .ToArray();

    /// <summary>The sources of <paramref name="stripe"/>, one per VM of the manifest.</summary>
    public IReadOnlyList<ImageSource> Open(int stripe)
    {
        // All at once: each digest is a pass over its image, best done while the stripes are still being sent.
        foreach (var digest in _digests)
        {
            _ = digest.Value;
        }

        return vms
            .Select((vm, index) => (ImageSource)new StripeImageSource(
                VmmImageSource.Of(vmm, vm.VmId),
                layout,
                stripe,
                vm,
                async cancellationToken => (await _digests[index].Value.WaitAsync(cancellationToken))[stripe]))
            .ToList();
    }

    private static async Task<string[]> DigestStripesAsync(IVmm vmm, VmImage vm, StripeLayout layout)
    {
        var hashes = Enumerable.Range(0, layout.Stripes).Select(_ => IncrementalHash.CreateHash(HashAlgorithmName.SHA256)).ToArray();
        var buffer = ArrayPool<byte>.Shared.Rent(layout.ChunkSizeBytes);
        try
        {
            await using var image = vmm.OpenImage(vm.VmId);
            var remaining = vm.Bytes;
            for (var chunk = 0L; remaining > 0; chunk++)
            {
                var length = (int)Math.Min(layout.ChunkSizeBytes, remaining);
                await image.ReadExactlyAsync(buffer.AsMemory(0, length));
                hashes[chunk % layout.Stripes].AppendData(buffer, 0, length);
                remaining -= length;
            }

            return hashes.Select(h => Convert.ToHexStringLower(h.GetHashAndReset())).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            foreach (var hash in hashes)
            {
                hash.Dispose();
            }
        }
    }
}
