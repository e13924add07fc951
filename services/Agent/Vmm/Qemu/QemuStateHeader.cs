using System.Text;
using System.Text.Json;
using Treecast.Contracts;

namespace Treecast.Agent.Vmm.Qemu;

/// <summary>
/// The first bytes of a QEMU VM image: a magic line and one JSON line saying which VM it is, how to recreate it and
/// which workload it carries. QEMU's migration stream follows unchanged, so a receiver needs nothing but the image
/// to start the right QEMU and to keep reporting the workload.
/// </summary>
internal sealed record QemuStateHeader(
    string VmId,
    VmDefinition Definition,
    string? WorkloadId,
    long WorkloadTarget,
    byte WorkloadGeneration)
{
    public const string MagicLine = "treecast-qemu-state/1";

    // A header is a few hundred bytes; the bound keeps a wrong file from being read to its end.
    private const int MaxHeaderBytes = 64 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public byte[] Encode() =>
        Encoding.UTF8.GetBytes($"{MagicLine}\n{JsonSerializer.Serialize(this, Json)}\n");

    /// <summary>
    /// Reads the header and leaves <paramref name="image"/> at the first byte of the migration stream; also returns
    /// the header's bytes as read (they count towards the image's size and digest).
    /// </summary>
    public static async Task<(QemuStateHeader Header, byte[] Bytes)> ReadAsync(Stream image, string imageName, CancellationToken cancellationToken)
    {
        var magicBytes = await ReadLineAsync(image, imageName, cancellationToken);
        var magic = Encoding.UTF8.GetString(magicBytes);
        if (magic != MagicLine)
        {
            throw new InvalidDataException(
                $"{imageName} is not a QEMU VM image: it starts with \"{Truncate(magic)}\" instead of \"{MagicLine}\" (was it made by another VMM kind?).");
        }

        var json = await ReadLineAsync(image, imageName, cancellationToken);
        QemuStateHeader? header;
        try
        {
            header = JsonSerializer.Deserialize<QemuStateHeader>(json, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{imageName} has a malformed QEMU VM image header: {e.Message}", e);
        }

        if (header is null || string.IsNullOrWhiteSpace(header.VmId) || header.Definition is null)
        {
            throw new InvalidDataException($"{imageName} has a QEMU VM image header without a VM id or definition.");
        }

        return (header, [.. magicBytes, (byte)'\n', .. json, (byte)'\n']);
    }

    // Byte by byte, so not one byte of the migration stream behind the header is consumed (the image may be a pipe).
    private static async Task<byte[]> ReadLineAsync(Stream image, string imageName, CancellationToken cancellationToken)
    {
        var bytes = new List<byte>(256);
        var one = new byte[1];
        while (true)
        {
            if (await image.ReadAsync(one, cancellationToken) == 0)
            {
                throw new InvalidDataException($"{imageName} ends inside its QEMU VM image header ({bytes.Count} bytes read).");
            }

            if (one[0] == (byte)'\n')
            {
                return [.. bytes];
            }

            bytes.Add(one[0]);
            if (bytes.Count > MaxHeaderBytes)
            {
                throw new InvalidDataException($"{imageName} has no QEMU VM image header in its first {MaxHeaderBytes} bytes.");
            }
        }
    }

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
