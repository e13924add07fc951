namespace Treecast.Policy.Api;

/// <summary>
/// Reads a request body up to a limit, never past it: a body that announces a larger length is refused before a byte is
/// read, and one without a length (chunked) is refused one byte past the limit.
/// </summary>
internal static class RequestBody
{
    /// <returns>The body, or null when it is larger than <paramref name="maxBytes"/> (the caller answers 413).</returns>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        var buffer = new byte[Math.Min(maxBytes + 1, (int?)request.ContentLength + 1 ?? maxBytes + 1)];
        var length = 0;
        int read;
        while ((read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
            if (length > maxBytes)
            {
                return null;
            }

            if (length == buffer.Length)
            {
                Array.Resize(ref buffer, Math.Min(maxBytes + 1, buffer.Length * 2));
            }
        }

        return buffer[..length];
    }
}
