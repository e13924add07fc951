using System.Collections.Concurrent;
using System.Diagnostics;

namespace Treecast.Bench.Running;

/// <summary>
/// What a benchmark run creates outside its own memory (temporary folders, child processes, cleanup actions such as
/// dropping a database): released when the run ends, fails, is cancelled by Ctrl-C, or the process is asked to exit.
/// </summary>
public sealed class RunResources : IAsyncDisposable
{
    private readonly ConcurrentStack<Func<Task>> _releases = new();
    private int _released;

    public RunResources()
    {
        // Ctrl-C cancels the command's token and the command's finally releases; this covers SIGTERM and a hard exit.
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    /// <summary>A new empty folder under the system's temporary folder, deleted at the end of the run.</summary>
    public string TemporaryDirectory(string purpose)
    {
        var path = Path.Combine(Path.GetTempPath(), "treecast-bench", $"{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        _releases.Push(() =>
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }

            return Task.CompletedTask;
        });
        return path;
    }

    /// <summary>Kills <paramref name="process"/> and its children at the end of the run if it still runs.</summary>
    public Process Track(Process process)
    {
        _releases.Push(() =>
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
                // It had already gone.
            }

            process.Dispose();
            return Task.CompletedTask;
        });
        return process;
    }

    public void OnRelease(Func<Task> release) => _releases.Push(release);

    public async ValueTask DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        await ReleaseAsync();
    }

    private void OnProcessExit(object? sender, EventArgs e) => ReleaseAsync().GetAwaiter().GetResult();

    private async Task ReleaseAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 1)
        {
            return;
        }

        while (_releases.TryPop(out var release))
        {
            try
            {
                await release();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or TimeoutException or InvalidOperationException)
            {
                Console.Error.WriteLine($"treecast-bench: could not clean up after the run: {ex.Message}");
            }
        }
    }
}
