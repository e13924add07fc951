using System.Buffers;
using System.Security.Cryptography;

namespace Treecast.Agent.Transfer.Striping;

/// <summary>A VM's image written back together from its verified stripes, hashed as it is written.</summary>
public static class StripeAssembly
{
    /// <summary>
    /// Writes the image whose stripes are the files <paramref name="stripePaths"/> (stripe order) to
    /// <paramref name="target"/>, chunk by chunk in image order, makes it durable, and returns its SHA-256 (lower-case
    /// hex) for the caller to check against the manifest.
    /// </summary>
    public static async Task<string> AssembleAsync(StripeLayout layout, IReadOnlyList<string> stripePaths, string target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stripePaths);
        if (stripePaths.Count != layout.Stripes)
        {
            throw new ArgumentException($"{stripePaths.Count} stripe files for a layout of {layout.Stripes} stripes.", nameof(stripePaths));
        }

        var stripes = stripePaths
            .Select(path => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 0, FileOptions.SequentialScan))
            .ToList();
        var buffer = ArrayPool<byte>.Shared.Rent(layout.ChunkSizeBytes);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var image = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None, 0))
            {
                image.SetLength(stripes.Sum(s => s.Length));
                for (var chunk = 0L; ; chunk++)
                {
                    var read = await ReadChunkAsync(stripes[(int)(chunk % layout.Stripes)], buffer.AsMemory(0, layout.ChunkSizeBytes), cancellationToken);
                    if (read == 0)
                    {
                        break;
                    }

                    hash.AppendData(buffer, 0, read);
                    await image.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    if (read < layout.ChunkSizeBytes)
                    {
                        break; // The image's last chunk.
                    }
                }

                image.Flush(flushToDisk: true);
            }

            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            foreach (var stripe in stripes)
            {
                await stripe.DisposeAsync();
            }
        }
    }

    private static async Task<int> ReadChunkAsync(FileStream stripe, Memory<byte> chunk, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < chunk.Length)
        {
            var read = await stripe.ReadAsync(chunk[total..], cancellationToken);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }
}
