using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Treecast.Policy.Policies;
using Treecast.Policy.Tests.Support;
using Treecast.TestSupport;

namespace Treecast.Policy.Tests.Policies;

public sealed class When_policy_files_change : IDisposable
{
    private readonly TempPolicyDirectory _directory = new();
    private readonly InMemoryPolicyStore _store = new();
    private readonly IOptions<PolicyOptions> _options;
    private readonly PolicyReloader _reloader;

    public When_policy_files_change()
    {
        _options = Options.Create(new PolicyOptions { PoliciesPath = _directory.Path, ReloadDebounce = TimeSpan.FromMilliseconds(100) });
        _reloader = new PolicyReloader(
            new PolicyLoader(new PolicyFileReader(), TimeProvider.System),
            _store,
            _options,
            NullLogger<PolicyReloader>.Instance);
    }

    [Fact]
    public void Should_refuse_the_start_with_a_bad_file()
    {
        _directory.Write("a.yaml", Yaml.Degraded.Replace("broadcast:", "broadcst:", StringComparison.Ordinal));
        using var watcher = NewWatcher();

        var ex = Assert.Throws<PolicyValidationException>(() => watcher.StartAsync(CancellationToken.None).GetAwaiter().GetResult());

        Assert.Contains("unknown action 'broadcst'", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_store.Current.Policies);
    }

    [Fact]
    public void Should_keep_the_policies_in_force_when_a_reloaded_file_is_bad()
    {
        var file = _directory.Write("a.yaml", Yaml.Degraded);
        var loaded = _reloader.Load();

        File.WriteAllText(file, Yaml.Degraded.Replace("fanOut: 3", "fanOut: 0", StringComparison.Ordinal));
        var errors = _reloader.Reload();

        Assert.Contains(errors, e => e.Reason.StartsWith("'fanOut' is 0", StringComparison.Ordinal));
        Assert.Same(loaded, _store.Current);
        Assert.Equal(3, Assert.IsType<BroadcastAction>(_store.Current.Policies[0].Actions[0]).FanOut);
    }

    [Fact]
    public async Task Should_put_an_edited_file_in_force_and_ignore_a_broken_one()
    {
        var file = _directory.Write("a.yaml", Yaml.Degraded);
        using var watcher = NewWatcher();
        await watcher.StartAsync(CancellationToken.None);
        Assert.Equal(["broadcast-on-degraded-host"], _store.Current.Policies.Select(p => p.Name));

        _directory.Write("b.yaml", Yaml.Stragglers);
        Assert.True(await Eventually.TrueAsync(() => _store.Current.Policies.Count == 2), "the new file was not loaded");

        var before = _store.Current;
        File.WriteAllText(file, "policies:\n  - name: [broken\n");
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Same(before, _store.Current);

        File.WriteAllText(file, Yaml.Degraded.Replace("fanOut: 3", "fanOut: 5", StringComparison.Ordinal));
        Assert.True(
            await Eventually.TrueAsync(() => _store.Current.Policies.OfType<ExecutionPolicy>().Any(p => p.Actions[0] is BroadcastAction { FanOut: 5 })),
            "the edited file was not put in force");

        await watcher.StopAsync(CancellationToken.None);
    }

    private PolicyFileWatcher NewWatcher() =>
        new(_reloader, _options, TimeProvider.System, NullLogger<PolicyFileWatcher>.Instance);

    public void Dispose() => _directory.Dispose();
}
