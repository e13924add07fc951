namespace Treecast.Agent.Vmm;

/// <summary>
/// Runs a VMM's operations that change what runs a VM or what its image is (pause, adoption, resume, discard, workload
/// start) one at a time, so a pause never reads an image an adoption is replacing.
/// </summary>
internal sealed class VmmOperations
{
    private readonly SemaphoreSlim _turn = new(1, 1);

    /// <summary>Waits for the operation's turn; disposing the result ends it.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken);
        return new Turn(_turn);
    }

    /// <summary>Waits for the operation in progress to end and admits none after it: the VMM is going.</summary>
    public Task CloseAsync() => _turn.WaitAsync();

    private sealed class Turn(SemaphoreSlim turn) : IDisposable
    {
        private int _ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                turn.Release();
            }
        }
    }
}
