using System.Collections.Concurrent;
using System.Text;

namespace Treecast.Hosting.Logging;

/// <summary>
/// Writes whole log lines to a stream from one thread of its own, every line waiting at that moment in one write: callers
/// only enqueue, and the thread is woken only when it had gone to sleep, not for every line.
/// </summary>
internal sealed class ConsoleLineWriter : IDisposable
{
    /// <summary>Lines waiting before callers wait too, as the framework's console logger does (it holds 2,500).</summary>
    public const int MaxWaitingLines = 10_000;

    private readonly ConcurrentQueue<string> _lines = new();
    private readonly SemaphoreSlim _wake = new(0);
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
            _wake.Release();
        }
    }

    /// <summary>Writes what is waiting and stops the thread.</summary>
    public void Dispose()
    {
        _completed = true;
        if (Interlocked.Exchange(ref _asleep, 0) == 1)
        {
            _wake.Release();
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

            // Asleep first, then look again: a line enqueued in between is either seen here or wakes the thread.
            Interlocked.Exchange(ref _asleep, 1);
            if ((!_lines.IsEmpty || _completed) && Interlocked.Exchange(ref _asleep, 0) == 1)
            {
                continue;
            }

            _wake.Wait();
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
