namespace Treecast.Agent.Images;

/// <summary>
/// Wakes every reader waiting for an image file to grow (and every forwarder waiting for a sibling to move on). A reader
/// takes <see cref="Next"/> before it looks at the length, so a write that lands between the look and the wait still wakes it.
/// </summary>
public sealed class GrowthSignal
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _next = New();

    /// <summary>Completes at the next <see cref="Raise"/>.</summary>
    public Task Next
    {
        get
        {
            lock (_gate)
            {
                return _next.Task;
            }
        }
    }

    public void Raise()
    {
        TaskCompletionSource previous;
        lock (_gate)
        {
            previous = _next;
            _next = New();
        }

        previous.TrySetResult();
    }

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
