namespace Treecast.Agent.Vmm;

/// <summary>
/// Runs a VMM's operations that change what runs a VM or what its image is (pause, adoption, resume, discard, workload
/// start) one at a time, so a pause never reads an image an adoption is replacing; and ends them when the VMM stops.
/// </summary>
internal sealed class VmmOperations : IDisposable
{
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();

    public VmmOperations() => Stopping = _stopping.Token;

    /// <summary>Cancelled by <see cref="StopAsync"/>: what an operation started and outlives it (a save) ends with it too.</summary>
    public CancellationToken Stopping { get; }

    /// <summary>Waits for the operation's turn; its token ends with the caller's or with the VMM's stop. Disposing it ends the operation.</summary>
    public async Task<Operation> EnterAsync(CancellationToken cancellationToken)
    {
        var token = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        try
        {
            await _turn.WaitAsync(token.Token);
        }
        catch
        {
            token.Dispose();
            throw;
        }

        return new Operation(_turn, token);
    }

    /// <summary>Cancels the operations running and waiting.</summary>
    public Task StopAsync() => _stopping.CancelAsync();

    /// <summary>Waits for the operation in progress to end and admits none after it: the VMM is going.</summary>
    public Task CloseAsync() => _turn.WaitAsync();

    public void Dispose() => _stopping.Dispose();

    /// <summary>One operation's turn.</summary>
    public sealed class Operation(SemaphoreSlim turn, CancellationTokenSource token) : IDisposable
    {
        private int _ended;

        public CancellationToken Token => token.Token;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                turn.Release();
                token.Dispose();
            }
        }
    }
}
