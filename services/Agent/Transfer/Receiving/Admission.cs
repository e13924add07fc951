namespace Treecast.Agent.Transfer.Receiving;

/// <summary>
/// A stream admitted to push one operation to this agent (or refused: see <see cref="Outcome"/>). Only one stream of an
/// operation is admitted at a time; the admission ends when it is disposed or <see cref="Token"/> is cancelled (another
/// stream took over, the parent changed, the receive stopped).
/// </summary>
public sealed class Admission : IDisposable
{
    private readonly Action<Admission>? _release;
    private readonly CancellationTokenSource? _cancellation;
    private int _released;

    private Admission(ReceiveOutcome outcome, Receiver? receiver, int stripe, CancellationTokenSource? cancellation, Action<Admission>? release)
    {
        Outcome = outcome;
        Stripe = stripe;
        Receiver = receiver;
        _cancellation = cancellation;
        _release = release;
    }

    public ReceiveOutcome Outcome { get; }

    /// <summary>The receive this stream feeds; null when refused.</summary>
    public Receiver? Receiver { get; }

    /// <summary>The stripe this stream carries (0 in an operation of one stripe).</summary>
    public int Stripe { get; }

    public CancellationToken Token => _cancellation?.Token ?? CancellationToken.None;

    /// <summary>Where the sender resumes, per VM of the manifest: the bytes of the stream's stripe this agent holds.</summary>
    public IReadOnlyList<long> ResumeOffsets => Receiver?.SpoolsOf(Stripe).Select(s => s.CommittedLength).ToList() ?? [];

    internal static Admission Refused(ReceiveOutcome outcome, Receiver? receiver = null) => new(outcome, receiver, 0, null, null);

    internal static Admission Admitted(Receiver receiver, int stripe, CancellationTokenSource cancellation, Action<Admission> release) =>
        new(ReceiveOutcome.Done, receiver, stripe, cancellation, release);

    internal void Cancel()
    {
        try
        {
            _cancellation?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // That stream ended on its own meanwhile.
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _release?.Invoke(this);
            _cancellation?.Dispose();
        }
    }
}
