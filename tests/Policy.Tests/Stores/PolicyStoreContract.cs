using Treecast.Policy.Policies;

namespace Treecast.Policy.Tests.Stores;

/// <summary>What every policy store must do, asserted the same way against each. A subclass names the store.</summary>
public abstract class PolicyStoreContract
{
    protected static readonly DateTimeOffset LoadedAt = new(2026, 11, 25, 9, 0, 0, TimeSpan.Zero);

    /// <summary>An empty store; skips the test, with the reason, when the store is not reachable here.</summary>
    protected abstract IPolicyStore CreateStore();

    [SkippableFact]
    public async Task Starts_with_no_policies()
    {
        var store = CreateStore();

        Assert.Empty(store.Current.Policies);
        Assert.Empty(await store.RecordedFilesAsync(CancellationToken.None));
    }

    [SkippableFact]
    public async Task The_set_in_force_is_the_one_loaded_and_its_files_are_recorded()
    {
        var store = CreateStore();
        var set = Set(LoadedAt, File("a.yaml", 'a', "broadcast-on-degraded-host"), File("b.yaml", 'b', "duplicate-stragglers", "second"));

        store.Replace(set);

        Assert.Same(set, store.Current);
        var recorded = await store.RecordedFilesAsync(CancellationToken.None);
        Assert.Equal(["a.yaml", "b.yaml"], recorded.Select(r => r.File));
        Assert.Equal(new string('b', 64), recorded[1].Sha256);
        Assert.Equal(["duplicate-stragglers", "second"], recorded[1].PolicyNames);
        Assert.All(recorded, r => Assert.Equal(LoadedAt, r.LoadedAt));
    }

    [SkippableFact]
    public async Task A_reload_records_the_new_files_only()
    {
        var store = CreateStore();
        store.Replace(Set(LoadedAt, File("a.yaml", 'a', "one"), File("b.yaml", 'b', "two")));

        store.Replace(Set(LoadedAt.AddMinutes(5), File("b.yaml", 'c', "two", "three")));

        var recorded = Assert.Single(await store.RecordedFilesAsync(CancellationToken.None));
        Assert.Equal("b.yaml", recorded.File);
        Assert.Equal(new string('c', 64), recorded.Sha256);
        Assert.Equal(["two", "three"], recorded.PolicyNames);
        Assert.Equal(LoadedAt.AddMinutes(5), recorded.LoadedAt);
    }

    protected static PolicyFile File(string name, char hash, params string[] policyNames) =>
        new(name, new string(hash, 64), policyNames);

    protected static PolicySet Set(DateTimeOffset loadedAt, params PolicyFile[] files) => new([], files, loadedAt);
}
