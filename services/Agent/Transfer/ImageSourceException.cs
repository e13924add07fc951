namespace Treecast.Agent.Transfer;

/// <summary>Reading the image to forward failed (the VMM's save broke, the relay's own receive failed): final for every child.</summary>
public sealed class ImageSourceException : Exception
{
    public ImageSourceException(string message)
        : base(message)
    {
    }

    /// <summary>The source's own failure, its message kept as is (it names the VM and what broke).</summary>
    public ImageSourceException(Exception inner)
        : base(inner.Message, inner)
    {
    }
}
