using Microsoft.Extensions.Options;

namespace Treecast.Policy.Policies;

/// <summary>
/// Loads the policies when the service starts (refusing to start on errors) and reloads them when the files
/// change. Registered before the bus, so no event is consumed before the policies are in force.
/// </summary>
public sealed class PolicyFileWatcher(
    PolicyReloader reloader,
    IOptions<PolicyOptions> options,
    TimeProvider time,
    ILogger<PolicyFileWatcher> logger) : IHostedService, IDisposable
{
    private FileSystemWatcher? _watcher;
    private ITimer? _debounce;
    private bool _watchingOneFile;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        reloader.Load();
        if (!options.Value.WatchForChanges)
        {
            return Task.CompletedTask;
        }

        var path = reloader.PoliciesPath;
        var isDirectory = Directory.Exists(path);
        _watchingOneFile = !isDirectory;
        _debounce = time.CreateTimer(_ => reloader.Reload(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _watcher = new FileSystemWatcher(isDirectory ? path : Path.GetDirectoryName(path)!)
        {
            Filter = isDirectory ? "*" : Path.GetFileName(path),
            IncludeSubdirectories = false,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        _watcher.Changed += OnChanged;
        _watcher.Created += OnChanged;
        _watcher.Deleted += OnChanged;
        _watcher.Renamed += OnChanged;
        _watcher.Error += (_, e) =>
        {
            // Lost events (buffer overflow): reload anyway, the files are the truth.
            logger.LogWarning(e.GetException(), "Watching {PoliciesPath} lost events; reloading", path);
            ScheduleReload();
        };
        _watcher.EnableRaisingEvents = true;
        logger.LogInformation("Watching {PoliciesPath} for policy changes", path);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_watcher is not null)
        {
            _watcher.EnableRaisingEvents = false;
        }

        _debounce?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _debounce?.Dispose();
    }

    private void OnChanged(object sender, FileSystemEventArgs e)
    {
        // Editors write temporary files next to the real one; only policy files (or the watched file) count.
        var relevant = _watchingOneFile
            || PolicyLoader.IsPolicyFile(e.FullPath)
            || (e is RenamedEventArgs renamed && PolicyLoader.IsPolicyFile(renamed.OldFullPath));
        if (relevant)
        {
            ScheduleReload();
        }
    }

    private void ScheduleReload() => _debounce?.Change(options.Value.ReloadDebounce, Timeout.InfiniteTimeSpan);
}
