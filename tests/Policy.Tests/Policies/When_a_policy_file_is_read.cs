using System.Security.Cryptography;
using System.Text;
using Treecast.Policy.Policies;
using Treecast.Policy.Tests.Support;

namespace Treecast.Policy.Tests.Policies;

public sealed class When_a_policy_file_is_read
{
    private readonly PolicyFileReader _reader = new();

    [Fact]
    public void Should_read_the_documented_format()
    {
        var content = Read("a.yaml", Yaml.Both);

        Assert.Empty(content.Errors);
        Assert.Equal(2, content.Policies.Count);

        var degraded = content.Policies[0];
        Assert.Equal("broadcast-on-degraded-host", degraded.Name);
        Assert.Equal(EventTypes.HostDegraded, degraded.On.Type);
        Assert.Equal(["critical", "major"], degraded.On.Match["severity"]);
        var broadcast = Assert.IsType<BroadcastAction>(Assert.Single(degraded.Actions));
        Assert.Equal(3, broadcast.FanOut);
        Assert.Equal(256 * 1024, broadcast.ChunkSizeBytes);
        Assert.Equal(new PolicySource("a.yaml", Sha256(Yaml.Both), 2, 5), degraded.Source);

        var duplicate = Assert.IsType<DuplicateIfNotCompletedWithinAction>(Assert.Single(content.Policies[1].Actions));
        Assert.Equal(TimeSpan.FromSeconds(30), duplicate.Deadline);
        Assert.Equal(4, duplicate.FanOut);
    }

    [Fact]
    public void Should_apply_defaults_and_read_scalar_and_attribute_matchers()
    {
        var content = Read("b.yaml", """
            policies:
              - name: quiet
                on:
                  type: host.degraded
                  match:
                    vmm: host-01
                    attributes.rack: r7
                actions:
                  - broadcast:
                  - broadcast
            """);

        Assert.Empty(content.Errors);
        var policy = Assert.Single(content.Policies);
        Assert.Equal(["host-01"], policy.On.Match["vmm"]);
        Assert.Equal(["r7"], policy.On.Match["attributes.rack"]);
        // No fanOut: 0, topology picks it for the image size.
        Assert.All(policy.Actions, a => Assert.Equal(new BroadcastAction(0, PolicyActionNames.DefaultChunkSizeKiB), a));
    }

    [Fact]
    public void Should_read_the_stripes_of_both_actions()
    {
        var content = Read("c.yaml", """
            policies:
              - name: striped
                on:
                  type: workload.started
                actions:
                  - broadcast:
                      fanOut: 3
                      stripes: 3
                  - duplicateIfNotCompletedWithin:
                      deadline: 10m
                      stripes: 4
            """);

        Assert.Empty(content.Errors);
        var actions = Assert.Single(content.Policies).Actions;
        Assert.Equal(new BroadcastAction(3, PolicyActionNames.DefaultChunkSizeKiB, 3), actions[0]);
        Assert.Equal(4, Assert.IsType<DuplicateIfNotCompletedWithinAction>(actions[1]).Stripes);
    }

    [Fact]
    public void Should_accept_the_shipped_default_file()
    {
        var file = Path.Combine(AppContext.BaseDirectory, "policies", "default.yaml");
        var content = _reader.Read(file, File.ReadAllBytes(file));

        Assert.Empty(content.Errors);
        Assert.Contains(content.Policies, p => p.On.Type == EventTypes.BroadcastRequested);
        Assert.Contains(content.Policies, p => p.Actions.OfType<DuplicateIfNotCompletedWithinAction>().Any());
    }

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1h", 3_600_000)]
    public void Should_parse_deadlines(string text, long milliseconds)
    {
        Assert.True(PolicyFileReader.TryParseDuration(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    public static TheoryData<string, string, string> BadFiles => new()
    {
        {
            "unknown action",
            """
            policies:
              - name: p
                on:
                  type: host.degraded
                actions:
                  - broadcst:
                      fanOut: 2
            """,
            "a.yaml:6:9: unknown action 'broadcst' (expected 'broadcast' or 'duplicateIfNotCompletedWithin')"
        },
        {
            "unknown event type",
            """
            policies:
              - name: p
                on:
                  type: host.degrade
                actions:
                  - broadcast:
            """,
            "a.yaml:4:13: unknown event type 'host.degrade' (expected one of host.degraded, workload.started, workload.completed, broadcast.requested)"
        },
        {
            "missing type",
            """
            policies:
              - name: p
                on:
                  match:
                    vmm: h
                actions:
                  - broadcast:
            """,
            "a.yaml:4:7: missing required key 'type' in 'on' (add 'type:' with one of host.degraded"
        },
        {
            "missing name",
            """
            policies:
              - on:
                  type: host.degraded
                actions:
                  - broadcast:
            """,
            "a.yaml:2:5: missing required key 'name' in a policy (add 'name: <unique-name>')"
        },
        {
            "missing actions",
            """
            policies:
              - name: p
                on:
                  type: host.degraded
            """,
            "a.yaml:2:5: missing required key 'actions' in a policy"
        },
        {
            "unknown policy key",
            """
            policies:
              - name: p
                when:
                  type: host.degraded
                on:
                  type: host.degraded
                actions:
                  - broadcast:
            """,
            "a.yaml:3:5: unknown key 'when' in a policy (expected 'name', 'on' or 'actions')"
        },
        {
            "unknown action setting",
            """
            policies:
              - name: p
                on:
                  type: host.degraded
                actions:
                  - broadcast:
                      fanout: 2
            """,
            "a.yaml:7:11: unknown key 'fanout' in action 'broadcast' (expected 'fanOut', 'stripes' or 'chunkSizeKiB')"
        },
        {
            "unknown match field",
            """
            policies:
              - name: p
                on:
                  type: host.degraded
                  match:
                    host: h1
                actions:
                  - broadcast:
            """,
            "a.yaml:6:9: unknown match field 'host' (expected 'vmm', 'severity', 'workloadId' or 'attributes.<name>')"
        },
        {
            "fanOut too large",
            """
            policies:
              - name: p
                on:
                  type: host.degraded
                actions:
                  - broadcast:
                      fanOut: 65
            """,
            "a.yaml:7:19: 'fanOut' is 65, outside 1..64"
        },
        {
            "stripes too many",
            """
            policies:
              - name: striped
                on:
                  type: host.degraded
                actions:
                  - broadcast:
                      stripes: 17
            """,
            "a.yaml:7:20: 'stripes' is 17, outside 0..16 (stripe trees, 0 for the default; write a value from 0 to 16)"
        },
        {
            "stripes not a number",
            """
            policies:
              - name: striped
                on:
                  type: workload.started
                actions:
                  - duplicateIfNotCompletedWithin:
                      deadline: 10m
                      stripes: two
            """,
            "a.yaml:8:20: 'stripes' must be a whole number from 0 to 16"
        },
        {
            "fanOut zero",
            """
            policies:
              - name: p
                on:
                  type: host.degraded
                actions:
                  - broadcast:
                      fanOut: 0
            """,
            "a.yaml:7:19: 'fanOut' is 0, outside 1..64"
        },
        {
            "chunk too small",
            """
            policies:
              - name: p
                on:
                  type: host.degraded
                actions:
                  - broadcast:
                      chunkSizeKiB: 2
            """,
            "a.yaml:7:25: 'chunkSizeKiB' is 2, outside 4..16384"
        },
        {
            "chunk too large",
            """
            policies:
              - name: p
                on:
                  type: host.degraded
                actions:
                  - broadcast:
                      chunkSizeKiB: 16385
            """,
            "a.yaml:7:25: 'chunkSizeKiB' is 16385, outside 4..16384"
        },
        {
            "zero deadline",
            """
            policies:
              - name: p
                on:
                  type: workload.started
                actions:
                  - duplicateIfNotCompletedWithin:
                      deadline: 0s
            """,
            "a.yaml:7:21: deadline '0s' must be greater than zero"
        },
        {
            "deadline without unit",
            """
            policies:
              - name: p
                on:
                  type: workload.started
                actions:
                  - duplicateIfNotCompletedWithin:
                      deadline: 30
            """,
            "a.yaml:7:21: deadline '30' is not a duration (write a whole number followed by ms, s, m or h"
        },
        {
            "missing deadline",
            """
            policies:
              - name: p
                on:
                  type: workload.started
                actions:
                  - duplicateIfNotCompletedWithin:
                      fanOut: 2
            """,
            "a.yaml:6:9: missing required key 'deadline' in action 'duplicateIfNotCompletedWithin' (add for example 'deadline: 30s')"
        },
        {
            "deadline watch on a host event",
            """
            policies:
              - name: p
                on:
                  type: host.degraded
                actions:
                  - duplicateIfNotCompletedWithin:
                      deadline: 30s
            """,
            "a.yaml:6:9: action 'duplicateIfNotCompletedWithin' watches a workload, so it needs 'type: workload.started'"
        },
        {
            "duplicate name in one file",
            """
            policies:
              - name: p
                on:
                  type: host.degraded
                actions:
                  - broadcast:
              - name: p
                on:
                  type: host.degraded
                actions:
                  - broadcast:
            """,
            "a.yaml:7:5: duplicate policy name 'p', already defined at a.yaml:2:5 (give each policy a unique name)"
        },
        {
            "syntax error",
            """
            policies:
              - name: p
                on:
                  type: [host.degraded
                actions:
                  - broadcast:
            """,
            "a.yaml:"
        },
        {
            "empty file",
            "",
            "a.yaml:1:1: the file is empty (start it with 'policies:'"
        },
        {
            "not a list",
            """
            policies:
              name: p
            """,
            "a.yaml:2:3: 'policies' must be a list"
        },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Should_name_file_line_column_reason_and_fix(string problem, string yaml, string expected)
    {
        var loader = new PolicyLoader(_reader, TimeProvider.System);

        var ex = Assert.Throws<PolicyValidationException>(() => loader.Parse("a.yaml", Encoding.UTF8.GetBytes(yaml)));

        Assert.True(
            ex.Errors.Any(e => e.ToString().StartsWith(expected, StringComparison.Ordinal)),
            $"{problem}: expected an error starting with\n  {expected}\nbut got\n  {string.Join("\n  ", ex.Errors)}");
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_say_a_syntax_error_is_one_and_where()
    {
        var content = Read("a.yaml", "policies:\n  - name: p\n    on: {type: host.degraded\n");

        var error = Assert.Single(content.Errors);
        Assert.StartsWith("YAML syntax error: ", error.Reason, StringComparison.Ordinal);
        Assert.True(error.Line >= 3, error.ToString());
    }

    [Fact]
    public void Should_report_every_error_not_just_the_first()
    {
        var content = Read("a.yaml", """
            policies:
              - name: p
                on:
                  type: nope
                actions:
                  - broadcast:
                      fanOut: 100
                      chunkSizeKiB: 1
            """);

        Assert.Equal(3, content.Errors.Count);
        Assert.Empty(content.Policies);
    }

    private PolicyFileContent Read(string file, string yaml) => _reader.Read(file, Encoding.UTF8.GetBytes(yaml));

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
