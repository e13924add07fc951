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

        // One byte more than the body may hold: filling it means the body is too large. Kestrel never delivers more than
        // an announced length, so a body with one never needs a larger buffer.
        var buffer = new byte[(int)(request.ContentLength ?? maxBytes) + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }

        if (length > maxBytes)
        {
            return null;
        }

        return buffer[..length];
    }
}
