using Microsoft.Extensions.Time.Testing;
using Treecast.Policy.Policies;
using Treecast.Policy.Tests.Support;

namespace Treecast.Policy.Tests.Policies;

public sealed class When_policy_files_are_loaded : IDisposable
{
    private readonly TempPolicyDirectory _directory = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 11, 25, 8, 0, 0, TimeSpan.Zero));
    private readonly PolicyLoader _loader;

    public When_policy_files_are_loaded() => _loader = new PolicyLoader(new PolicyFileReader(), _time);

    [Fact]
    public void Should_load_every_yaml_and_yml_file_of_a_directory_with_its_hash()
    {
        var a = _directory.Write("a.yaml", Yaml.Degraded);
        var b = _directory.Write("b.yml", Yaml.Stragglers);
        _directory.Write("notes.txt", "not a policy file");

        var set = _loader.Load(_directory.Path);

        Assert.Equal(["broadcast-on-degraded-host", "duplicate-stragglers"], set.Policies.Select(p => p.Name));
        Assert.Equal([a, b], set.Files.Select(f => f.File));
        Assert.All(set.Files, f => Assert.Equal(64, f.Sha256.Length));
        Assert.NotEqual(set.Files[0].Sha256, set.Files[1].Sha256);
        Assert.Equal(set.Files[1].Sha256, set.Policies[1].Source.Sha256);
        Assert.Equal(_time.GetUtcNow(), set.LoadedAt);
    }

    [Fact]
    public void Should_load_a_single_file()
    {
        var file = _directory.Write("only.yaml", Yaml.Both);

        var set = _loader.Load(file);

        Assert.Equal(2, set.Policies.Count);
        Assert.Equal(file, Assert.Single(set.Files).File);
    }

    [Fact]
    public void Should_refuse_the_same_policy_name_in_two_files()
    {
        var a = _directory.Write("a.yaml", Yaml.Degraded);
        var b = _directory.Write("b.yaml", Yaml.Degraded);

        var ex = Assert.Throws<PolicyValidationException>(() => _loader.Load(_directory.Path));

        var error = Assert.Single(ex.Errors);
        Assert.Equal(
            $"{b}:2:5: duplicate policy name 'broadcast-on-degraded-host', already defined at {a}:2:5 (give each policy a unique name)",
            error.ToString());
    }

    [Fact]
    public void Should_collect_the_errors_of_every_file()
    {
        _directory.Write("a.yaml", Yaml.Degraded.Replace("fanOut: 3", "fanOut: 99", StringComparison.Ordinal));
        _directory.Write("b.yaml", Yaml.Stragglers.Replace("30s", "-1s", StringComparison.Ordinal));

        var ex = Assert.Throws<PolicyValidationException>(() => _loader.Load(_directory.Path));

        Assert.Equal(["a.yaml", "b.yaml"], ex.Errors.Select(e => Path.GetFileName(e.File)));
        Assert.Contains("2 error(s) in the execution policies", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_name_a_missing_path_and_the_setting_to_fix()
    {
        var missing = Path.Combine(_directory.Path, "nope");

        var ex = Assert.Throws<PolicyValidationException>(() => _loader.Load(missing));

        Assert.Contains($"{missing}:1:1: no such file or directory (set Policy:PoliciesPath", ex.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _directory.Dispose();
}
