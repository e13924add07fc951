using System.Collections.Concurrent;
using System.Text;

namespace Treecast.Hosting.Logging;

/// <summary>
/// Writes whole log lines to a stream from one thread of its own, every line waiting at that moment in one write: callers
/// only enqueue. After a write the thread lets lines gather for <see cref="GatherInterval"/>, so a busy service costs it
/// about a hundred wake-ups a second however many lines it logs; an idle one wakes it only when a line comes.
/// </summary>
internal sealed class ConsoleLineWriter : IDisposable
{
    /// <summary>Lines waiting before callers wait too, as the framework's console logger does (it holds 2,500).</summary>
    public const int MaxWaitingLines = 10_000;

    /// <summary>How long lines gather after a write before the next: the most a line waits behind a busy writer.</summary>
    public static readonly TimeSpan GatherInterval = TimeSpan.FromMilliseconds(10);

    private readonly ConcurrentQueue<string> _lines = new();
    // Set only by the caller that finds the thread asleep; no spinning before the thread blocks on it.
    private readonly ManualResetEventSlim _wake = new(initialState: false, spinCount: 0);
    private readonly Stream _output;
    private readonly Thread _thread;
    private int _waiting;
    private int _asleep;
    private volatile bool _completed;

    public ConsoleLineWriter(Stream output)
    {
        _output = output;
        _thread = new Thread(Run) { IsBackground = true, Name = "Console log writer" };
        _thread.Start();
    }

    public void Write(string line)
    {
        if (_completed)
        {
            return;
        }

        // A stalled reader of standard output holds the callers back rather than filling memory.
        while (Volatile.Read(ref _waiting) >= MaxWaitingLines && !_completed)
        {
            Thread.Sleep(1);
        }

        Interlocked.Increment(ref _waiting);
        _lines.Enqueue(line);
        if (Volatile.Read(ref _asleep) == 1 && Interlocked.Exchange(ref _asleep, 0) == 1)
        {
            _wake.Set();
        }
    }

    /// <summary>Writes what is waiting and stops the thread.</summary>
    public void Dispose()
    {
        _completed = true;
        if (Interlocked.Exchange(ref _asleep, 0) == 1)
        {
            _wake.Set();
        }

        _thread.Join(TimeSpan.FromSeconds(5));
        _wake.Dispose();
    }

    private void Run()
    {
        using var writer = new StreamWriter(_output, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 64 * 1024, leaveOpen: true);
        while (true)
        {
            WriteWaiting(writer);
            if (_completed && _lines.IsEmpty)
            {
                return;
            }

            Thread.Sleep(GatherInterval);
            if (!_lines.IsEmpty || _completed)
            {
                continue;
            }

            // Asleep first, then look again: a line enqueued in between is either seen here or wakes the thread.
            Interlocked.Exchange(ref _asleep, 1);
            if ((!_lines.IsEmpty || _completed) && Interlocked.Exchange(ref _asleep, 0) == 1)
            {
                continue;
            }

            _wake.Wait();
            _wake.Reset();
        }
    }

    private void WriteWaiting(StreamWriter writer)
    {
        try
        {
            while (_lines.TryDequeue(out var line))
            {
                Interlocked.Decrement(ref _waiting);
                writer.Write(line);
            }

            writer.Flush();
        }
        catch (IOException)
        {
            // Standard output closed (the reader went away): the lines have nowhere to go, and the service goes on.
            while (_lines.TryDequeue(out _))
            {
                Interlocked.Decrement(ref _waiting);
            }
        }
    }
}
