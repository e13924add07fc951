using Treecast.Agent.Images;

namespace Treecast.Agent.Transfer;

/// <summary>
/// Keeps a parent's forwarders of one operation within <see cref="WindowBytes"/> of each other: one whose child takes
/// bytes faster waits for the slowest sibling before it sends further, so one child's TCP stream cannot take the
/// parent's uplink from another's. The slowest always goes on; a child that stops receiving holds its siblings back
/// only until its forwarder gives it up (the child grace period) and leaves.
/// </summary>
public sealed class SiblingPace(long windowBytes)
{
    /// <summary>8 MiB: room for each sibling's stream to keep several chunks in flight (chosen, not tuned).</summary>
    public const long DefaultWindowBytes = 8L * 1024 * 1024;

    private readonly Lock _gate = new();
    private readonly Dictionary<object, long> _positions = new(ReferenceEqualityComparer.Instance);
    private readonly GrowthSignal _moved = new();

    public long WindowBytes { get; } = windowBytes;

    /// <summary>Where <paramref name="sibling"/> stands now (bytes of the operation's images behind it); joins the pace the first time.</summary>
    public void Report(object sibling, long position)
    {
        lock (_gate)
        {
            _positions[sibling] = position;
        }

        _moved.Raise();
    }

    /// <summary><paramref name="sibling"/> no longer sends (it finished, failed, or was stopped): it holds nobody back.</summary>
    public void Leave(object sibling)
    {
        lock (_gate)
        {
            _positions.Remove(sibling);
        }

        _moved.Raise();
    }

    /// <summary>Waits until sending from <paramref name="position"/> keeps <paramref name="sibling"/> within the window of the slowest other sibling.</summary>
    public async ValueTask WaitAsync(object sibling, long position, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task moved;
            lock (_gate)
            {
                var slowest = long.MaxValue;
                foreach (var (other, at) in _positions)
                {
                    if (!ReferenceEquals(other, sibling) && at < slowest)
                    {
                        slowest = at;
                    }
                }

                if (slowest == long.MaxValue || position - slowest <= WindowBytes)
                {
                    return;
                }

                moved = _moved.Next;
            }

            await moved.WaitAsync(cancellationToken);
        }
    }
}
