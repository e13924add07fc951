using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Treecast.Policy.Policies;

/// <summary>
/// Reads one policy file and checks it, collecting every error with its line and column (the YAML
/// representation model keeps each node's position, which a plain deserializer would lose).
/// </summary>
/// <remarks>
/// The format (see infra/policies/default.yaml):
/// <code>
/// policies:
///   - name: broadcast-on-degraded-host      # unique across all files; letters, digits, '.', '_', '-'
///     on:
///       type: host.degraded                 # required: host.degraded, workload.started, workload.completed, broadcast.requested
///       match:                              # optional; all must hold; a list means any-of; case-insensitive
///         severity: [critical, major]       # vmm, severity, workloadId, attributes.&lt;name&gt;
///     actions:                              # at least one
///       - broadcast:
///           fanOut: 2                       # 1..64; left out, topology picks it (FanOutChoice)
///           chunkSizeKiB: 128               # 4..16384, default 128 (Contracts.ChunkSizes)
///       - duplicateIfNotCompletedWithin:    # only on workload.started
///           deadline: 30s                   # required, > 0: 500ms, 30s, 5m, 1h
/// </code>
/// </remarks>
public sealed partial class PolicyFileReader
{
    private const string SyntaxFix = "fix the YAML here: indent with spaces, close brackets and quotes, put a space after each colon";

    private static readonly string[] PolicyKeys = ["name", "on", "actions"];
    private static readonly string[] TriggerKeys = ["type", "match"];
    private static readonly string[] BroadcastKeys = ["fanOut", "stripes", "chunkSizeKiB"];
    private static readonly string[] DuplicateKeys = ["deadline", "fanOut", "stripes", "chunkSizeKiB"];

    /// <summary>Reads <paramref name="content"/> (UTF-8), naming it <paramref name="file"/> in errors and sources.</summary>
    public PolicyFileContent Read(string file, byte[] content)
    {
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
        var context = new ReadContext(file, sha256);
        var text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetString(content).TrimStart('\uFEFF');

        var stream = new YamlStream();
        var parser = new PositionTrackingParser(new Parser(new StringReader(text)));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException ex)
        {
            context.Error(ex.Start, $"YAML syntax error: {SyntaxReason(ex)} ({SyntaxFix})");
            return context.Result();
        }
        catch (InvalidOperationException ex)
        {
            // YamlDotNet's scanner fails this way on some unterminated flow collections; the last event parsed
            // is the closest position we have.
            context.Error(parser.LastPosition, $"YAML syntax error after this position: {ex.Message} ({SyntaxFix})");
            return context.Result();
        }

        if (stream.Documents.Count == 0)
        {
            context.Error(Mark.Empty, "the file is empty (start it with 'policies:' followed by a list of policies)");
            return context.Result();
        }

        if (stream.Documents.Count > 1)
        {
            context.Error(stream.Documents[1].RootNode.Start,
                "more than one YAML document in the file (keep one 'policies:' list per file; split the rest into other files)");
        }

        ReadRoot(stream.Documents[0].RootNode, context);
        return context.Result();
    }

    private static void ReadRoot(YamlNode root, ReadContext context)
    {
        if (root is not YamlMappingNode mapping)
        {
            context.Error(root.Start, "expected a mapping with a 'policies' key (start the file with 'policies:')");
            return;
        }

        CheckKeys(mapping, ["policies"], "at the top level", context);
        if (!TryGet(mapping, "policies", out var policiesNode))
        {
            context.Error(mapping.Start, "missing required key 'policies' (add 'policies:' followed by a list of policies)");
            return;
        }

        if (policiesNode is YamlScalarNode scalar && IsEmpty(scalar))
        {
            // "policies:" with nothing under it: a file that defines no policy yet.
            return;
        }

        if (policiesNode is not YamlSequenceNode policies)
        {
            context.Error(policiesNode.Start, "'policies' must be a list (write each policy as an item starting with '- name:')");
            return;
        }

        foreach (var item in policies)
        {
            ReadPolicy(item, context);
        }
    }

    private static void ReadPolicy(YamlNode node, ReadContext context)
    {
        if (node is not YamlMappingNode mapping)
        {
            context.Error(node.Start, "a policy must be a mapping (write it as '- name: ...' with 'on:' and 'actions:' below)");
            return;
        }

        var errorsBefore = context.ErrorCount;
        CheckKeys(mapping, PolicyKeys, "in a policy", context);

        var name = RequiredScalar(mapping, "name", "in a policy", "add 'name: <unique-name>'", context);
        if (name is not null && !PolicyName().IsMatch(name.Value!))
        {
            context.Error(name.Start, $"policy name '{name.Value}' is not allowed (use letters, digits, '.', '_' and '-', starting with a letter or digit)");
        }

        var trigger = ReadTrigger(mapping, context);
        var actions = ReadActions(mapping, trigger, context);

        if (name is not null && trigger is not null && actions is not null && context.ErrorCount == errorsBefore)
        {
            context.Add(new ExecutionPolicy(
                name.Value!,
                trigger,
                actions,
                new PolicySource(context.File, context.Sha256, checked((int)mapping.Start.Line), checked((int)mapping.Start.Column))));
        }
    }

    private static EventTrigger? ReadTrigger(YamlMappingNode policy, ReadContext context)
    {
        if (!TryGet(policy, "on", out var node))
        {
            context.Error(policy.Start, "missing required key 'on' in a policy (add 'on:' with 'type: <event type>')");
            return null;
        }

        if (node is not YamlMappingNode on)
        {
            context.Error(node.Start, "'on' must be a mapping (write 'on:' then 'type: <event type>' indented below it)");
            return null;
        }

        CheckKeys(on, TriggerKeys, "in 'on'", context);
        var type = RequiredScalar(on, "type", "in 'on'", $"add 'type:' with one of {EventTypes.KnownList}", context);
        string? canonicalType = null;
        if (type is not null)
        {
            canonicalType = EventTypes.Canonical(type.Value);
            if (canonicalType is null)
            {
                context.Error(type.Start, $"unknown event type '{type.Value}' (expected one of {EventTypes.KnownList})");
            }
        }

        var match = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        if (TryGet(on, "match", out var matchNode) && !(matchNode is YamlScalarNode emptyMatch && IsEmpty(emptyMatch)))
        {
            if (matchNode is not YamlMappingNode matchers)
            {
                context.Error(matchNode.Start, "'match' must be a mapping of field to value(s) (for example 'severity: [critical, major]')");
            }
            else
            {
                foreach (var (keyNode, valueNode) in matchers.Children)
                {
                    ReadMatcher(keyNode, valueNode, match, context);
                }
            }
        }

        return canonicalType is null ? null : new EventTrigger(canonicalType, match);
    }

    private static void ReadMatcher(
        YamlNode keyNode,
        YamlNode valueNode,
        Dictionary<string, IReadOnlyList<string>> match,
        ReadContext context)
    {
        var field = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
        var known = EventTrigger.MatchableFields.Contains(field)
            || (field.StartsWith(EventTrigger.AttributePrefix, StringComparison.Ordinal)
                && field.Length > EventTrigger.AttributePrefix.Length);
        if (!known)
        {
            context.Error(keyNode.Start, $"unknown match field '{field}' (expected 'vmm', 'severity', 'workloadId' or 'attributes.<name>')");
            return;
        }

        var values = new List<string>();
        switch (valueNode)
        {
            case YamlScalarNode scalar when !IsEmpty(scalar):
                values.Add(scalar.Value!);
                break;
            case YamlSequenceNode sequence:
                foreach (var item in sequence)
                {
                    if (item is YamlScalarNode itemScalar && !IsEmpty(itemScalar))
                    {
                        values.Add(itemScalar.Value!);
                    }
                    else
                    {
                        context.Error(item.Start, $"each value of match field '{field}' must be a plain value (write a string such as 'critical')");
                    }
                }

                break;
            default:
                break;
        }

        if (values.Count == 0 && valueNode is not YamlSequenceNode { Children.Count: > 0 })
        {
            context.Error(valueNode.Start, $"match field '{field}' has no value (give a value, or a list such as [critical, major], or remove the field)");
            return;
        }

        match[field] = values;
    }

    private static IReadOnlyList<PolicyAction>? ReadActions(YamlMappingNode policy, EventTrigger? trigger, ReadContext context)
    {
        if (!TryGet(policy, "actions", out var node))
        {
            context.Error(policy.Start, $"missing required key 'actions' in a policy (add 'actions:' with at least one of '- {PolicyActionNames.Broadcast}:' or '- {PolicyActionNames.DuplicateIfNotCompletedWithin}:')");
            return null;
        }

        if (node is not YamlSequenceNode sequence || sequence.Children.Count == 0)
        {
            context.Error(node.Start, $"'actions' must be a non-empty list (add an item such as '- {PolicyActionNames.Broadcast}:')");
            return null;
        }

        var actions = new List<PolicyAction>();
        foreach (var item in sequence)
        {
            var action = ReadAction(item, trigger, context);
            if (action is not null)
            {
                actions.Add(action);
            }
        }

        return actions;
    }

    private static PolicyAction? ReadAction(YamlNode node, EventTrigger? trigger, ReadContext context)
    {
        YamlScalarNode nameNode;
        YamlNode? settingsNode = null;
        switch (node)
        {
            case YamlMappingNode { Children.Count: 1 } mapping when mapping.Children.First().Key is YamlScalarNode key:
                nameNode = key;
                settingsNode = mapping.Children.First().Value;
                break;
            case YamlScalarNode scalar when !IsEmpty(scalar):
                // "- broadcast" alone: the action with its defaults.
                nameNode = scalar;
                break;
            default:
                context.Error(node.Start, $"an action must be a mapping with exactly one key, the action name (write '- {PolicyActionNames.Broadcast}:' with its settings indented below)");
                return null;
        }

        var name = nameNode.Value!;
        string[] allowed;
        if (name == PolicyActionNames.Broadcast)
        {
            allowed = BroadcastKeys;
        }
        else if (name == PolicyActionNames.DuplicateIfNotCompletedWithin)
        {
            allowed = DuplicateKeys;
            if (trigger is not null && trigger.Type != EventTypes.WorkloadStarted)
            {
                context.Error(nameNode.Start, $"action '{name}' watches a workload, so it needs 'type: {EventTypes.WorkloadStarted}' (change the policy's event type, or use '{PolicyActionNames.Broadcast}')");
            }
        }
        else
        {
            context.Error(nameNode.Start, $"unknown action '{name}' (expected '{PolicyActionNames.Broadcast}' or '{PolicyActionNames.DuplicateIfNotCompletedWithin}')");
            return null;
        }

        YamlMappingNode? settings = null;
        if (settingsNode is YamlMappingNode settingsMapping)
        {
            settings = settingsMapping;
            CheckKeys(settings, allowed, $"in action '{name}'", context);
        }
        else if (settingsNode is not null && !(settingsNode is YamlScalarNode emptySettings && IsEmpty(emptySettings)))
        {
            context.Error(settingsNode.Start, $"the settings of action '{name}' must be a mapping (indent '{allowed[0]}: ...' below '{name}:')");
            return null;
        }

        var errorsBefore = context.ErrorCount;
        var fanOut = ReadInt(settings, "fanOut", PolicyActionNames.DefaultFanOut, PolicyActionNames.MinFanOut, PolicyActionNames.MaxFanOut, "children per VMM", context);
        var stripes = ReadInt(settings, "stripes", PolicyActionNames.DefaultStripes, 0, PolicyActionNames.MaxStripes, "stripe trees, 0 for the default", context);
        var chunkSizeKiB = ReadInt(settings, "chunkSizeKiB", PolicyActionNames.DefaultChunkSizeKiB, PolicyActionNames.MinChunkSizeKiB, PolicyActionNames.MaxChunkSizeKiB, "KiB, that is 4 KiB to 16 MiB", context);
        if (name == PolicyActionNames.Broadcast)
        {
            return context.ErrorCount == errorsBefore ? new BroadcastAction(fanOut, chunkSizeKiB, stripes) : null;
        }

        var deadline = ReadDeadline(settings, nameNode, context);
        return context.ErrorCount == errorsBefore && deadline is not null
            ? new DuplicateIfNotCompletedWithinAction(deadline.Value, fanOut, chunkSizeKiB, stripes)
            : null;
    }

    private static int ReadInt(YamlMappingNode? settings, string key, int defaultValue, int min, int max, string unit, ReadContext context)
    {
        if (settings is null || !TryGet(settings, key, out var node))
        {
            return defaultValue;
        }

        if (node is not YamlScalarNode scalar
            || !int.TryParse(scalar.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            context.Error(node.Start, $"'{key}' must be a whole number from {min} to {max} (write for example '{key}: {Math.Max(defaultValue, min)}')");
            return defaultValue;
        }

        if (value < min || value > max)
        {
            context.Error(node.Start, $"'{key}' is {value}, outside {min}..{max} ({unit}; write a value from {min} to {max})");
        }

        return value;
    }

    private static TimeSpan? ReadDeadline(YamlMappingNode? settings, YamlNode action, ReadContext context)
    {
        if (settings is null || !TryGet(settings, "deadline", out var node))
        {
            context.Error(action.Start, $"missing required key 'deadline' in action '{PolicyActionNames.DuplicateIfNotCompletedWithin}' (add for example 'deadline: 30s')");
            return null;
        }

        var text = (node as YamlScalarNode)?.Value ?? string.Empty;
        if (!TryParseDuration(text, out var deadline))
        {
            context.Error(node.Start, $"deadline '{text}' is not a duration (write a whole number followed by ms, s, m or h, for example 500ms, 30s, 5m or 1h)");
            return null;
        }

        if (deadline <= TimeSpan.Zero)
        {
            context.Error(node.Start, $"deadline '{text}' must be greater than zero (give the time the workload has to complete, for example 30s)");
            return null;
        }

        return deadline;
    }

    /// <summary>Parses <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>1h</c>.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        var match = Duration().Match(text.Trim());
        if (!match.Success || !long.TryParse(match.Groups["value"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        try
        {
            duration = match.Groups["unit"].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(value),
                "s" => TimeSpan.FromSeconds(value),
                "m" => TimeSpan.FromMinutes(value),
                _ => TimeSpan.FromHours(value),
            };
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    private static void CheckKeys(YamlMappingNode mapping, string[] allowed, string where, ReadContext context)
    {
        foreach (var key in mapping.Children.Keys)
        {
            var name = (key as YamlScalarNode)?.Value;
            if (name is null || !allowed.Contains(name, StringComparer.Ordinal))
            {
                var expected = allowed.Length == 1
                    ? $"'{allowed[0]}'"
                    : string.Join(", ", allowed[..^1].Select(a => $"'{a}'")) + $" or '{allowed[^1]}'";
                context.Error(key.Start, $"unknown key '{name ?? key.ToString()}' {where} (expected {expected})");
            }
        }
    }

    private static YamlScalarNode? RequiredScalar(YamlMappingNode mapping, string key, string where, string fix, ReadContext context)
    {
        if (!TryGet(mapping, key, out var node))
        {
            context.Error(mapping.Start, $"missing required key '{key}' {where} ({fix})");
            return null;
        }

        if (node is not YamlScalarNode scalar || IsEmpty(scalar))
        {
            context.Error(node.Start, $"'{key}' must be a non-empty value ({fix})");
            return null;
        }

        return scalar;
    }

    private static bool TryGet(YamlMappingNode mapping, string key, out YamlNode node) =>
        mapping.Children.TryGetValue(new YamlScalarNode(key), out node!);

    private static bool IsEmpty(YamlScalarNode scalar) =>
        scalar.Style == ScalarStyle.Plain && (string.IsNullOrEmpty(scalar.Value) || scalar.Value is "~" or "null");

    // YamlDotNet prefixes its message with the position, which our error already carries.
    private static string SyntaxReason(YamlException ex)
    {
        var message = ex.InnerException is YamlException inner ? inner.Message : ex.Message;
        return MarkPrefix().Replace(message, string.Empty).Trim();
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex PolicyName();

    [GeneratedRegex(@"^(?<value>\d+)(?<unit>ms|s|m|h)$")]
    private static partial Regex Duration();

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\):\s*")]
    private static partial Regex MarkPrefix();

    private sealed class PositionTrackingParser(IParser inner) : IParser
    {
        public Mark LastPosition { get; private set; } = Mark.Empty;

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            var moved = inner.MoveNext();
            if (inner.Current is not null)
            {
                LastPosition = inner.Current.End;
            }

            return moved;
        }
    }

    private sealed class ReadContext(string file, string sha256)
    {
        private readonly List<PolicyError> _errors = [];
        private readonly List<ExecutionPolicy> _policies = [];

        public string File { get; } = file;

        public string Sha256 { get; } = sha256;

        public int ErrorCount => _errors.Count;

        public void Error(Mark mark, string reason) =>
            _errors.Add(new PolicyError(File, Math.Max(1, checked((int)mark.Line)), Math.Max(1, checked((int)mark.Column)), reason));

        public void Add(ExecutionPolicy policy) => _policies.Add(policy);

        public PolicyFileContent Result() => new(File, Sha256, _policies, _errors);
    }
}
