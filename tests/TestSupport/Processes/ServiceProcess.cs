using System.Collections.Concurrent;
using System.Diagnostics;

namespace Treecast.TestSupport.Processes;

/// <summary>
/// One Treecast service running as its own OS process (<c>dotnet Treecast.X.dll</c>). Keeps its recent
/// output for failure messages and kills the whole process tree on dispose, so no process outlives a test.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private const int KeptLines = 400;
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServiceProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public bool HasExited => _process.HasExited;

    public static ServiceProcess Start(string name, string dll, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var service = new ServiceProcess(name, process);
        process.OutputDataReceived += (_, e) => service.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => service.Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>
    /// The HTTP address the service reports listening on (ASP.NET Core's "Now listening on:" line, which a service
    /// started with <c>ASPNETCORE_URLS=http://127.0.0.1:0</c> prints with the port it got), or null before it does.
    /// </summary>
    public Uri? ListeningAddress()
    {
        const string Marker = "Now listening on: ";
        var line = _output.FirstOrDefault(l => l.Contains(Marker, StringComparison.Ordinal));
        return line is null ? null : new Uri(line[(line.IndexOf(Marker, StringComparison.Ordinal) + Marker.Length)..].Trim());
    }

    /// <summary>Waits for the process to end on its own and returns its exit code.</summary>
    public async Task<int> ExitCodeAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>The lines the process printed that contain <paramref name="text"/>, oldest first (of the last ones kept).</summary>
    public IReadOnlyList<string> LinesWith(string text) => _output.Where(l => l.Contains(text, StringComparison.Ordinal)).ToList();

    /// <summary>
    /// The lines containing <paramref name="text"/> once at least one has been printed, or none after
    /// <paramref name="within"/> (<see cref="Eventually.DefaultLimit"/>): a process logs after it acts (the console
    /// logger writes from its own queue), so a test that has seen the act must still wait for the line.
    /// </summary>
    public async Task<IReadOnlyList<string>> LinesWithAsync(string text, TimeSpan? within = null)
    {
        await Eventually.TrueAsync(() => LinesWith(text).Count > 0, within);
        return LinesWith(text);
    }

    /// <summary>The last lines the process printed, prefixed with its name.</summary>
    public string Tail(int lines = 60) =>
        string.Join(Environment.NewLine, _output.TakeLast(lines).Select(l => $"[{Name}] {l}"));

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
        {
            // Already gone, or refusing to die within the limit: nothing more a test can do.
        }

        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > KeptLines && _output.TryDequeue(out _))
        {
        }
    }
}
