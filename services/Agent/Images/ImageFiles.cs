namespace Treecast.Agent.Images;

/// <summary>
/// Where VMM drivers keep VM image files, and how the drivers and the transfer engine open them. All unbuffered (a write
/// reaches the OS at once, so a follower's handle sees it) and sequential; every share mode allows Delete, because an
/// adoption or a new pause may move or replace a file while a relay still streams the old one.
/// </summary>
public static class ImageFiles
{
    /// <summary>
    /// Where a VMM keeps the file of VM <paramref name="vmId"/>: <c>{directory}/{vmId}{extension}</c>. Refuses an id that
    /// would name a file elsewhere; <paramref name="kind"/> says which file, for the message.
    /// </summary>
    public static string PathFor(string directory, string vmId, string extension, string kind)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(vmId);
        if (vmId.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || vmId.Contains("..", StringComparison.Ordinal))
        {
            throw new ArgumentException($"VM id \"{vmId}\" cannot name {kind}; use letters, digits, '-', '_' and '.'.", nameof(vmId));
        }

        return Path.Combine(directory, vmId + extension);
    }

    /// <summary>A file being written in order while others read it (a receiver's spool, a QEMU state being saved).</summary>
    public static FileStream CreateGrowing(string path, long preallocationSize = 0) => new(path, new FileStreamOptions
    {
        Mode = FileMode.Create,
        Access = FileAccess.Write,
        Share = FileShare.ReadWrite | FileShare.Delete,
        BufferSize = 0,
        Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
        PreallocationSize = preallocationSize,
    });

    /// <summary>A file written in order before, to be written on from where it ends (a spool resumed after a restart); created when missing.</summary>
    public static FileStream OpenGrowing(string path) => new(path, new FileStreamOptions
    {
        Mode = FileMode.OpenOrCreate,
        Access = FileAccess.ReadWrite,
        Share = FileShare.ReadWrite | FileShare.Delete,
        BufferSize = 0,
        Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
    });

    /// <summary>A reader of a file that may still be growing.</summary>
    public static FileStream OpenFollowing(string path) => new(path, new FileStreamOptions
    {
        Mode = FileMode.Open,
        Access = FileAccess.Read,
        Share = FileShare.ReadWrite | FileShare.Delete,
        BufferSize = 0,
        Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
    });

    /// <summary>A reader of a paused VM's finished image.</summary>
    public static FileStream OpenPaused(string path) => new(path, new FileStreamOptions
    {
        Mode = FileMode.Open,
        Access = FileAccess.Read,
        Share = FileShare.Read | FileShare.Delete,
        BufferSize = 0,
        Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
    });
}
