namespace Treecast.Hosting.ApiAccess;

/// <summary>
/// Who may call a service's HTTP API, bound from the <c>Api</c> section. Keys are named so that what they do is
/// attributed (a cancel records the key's name as who asked): <c>Api__Keys__alice=&lt;secret&gt;</c>.
/// </summary>
public sealed class ApiAccessOptions
{
    public const string Section = "Api";

    /// <summary>A key shorter than this is refused at start: it could be guessed.</summary>
    public const int MinimumKeyLength = 16;

    /// <summary>
    /// The API keys, by name. A request that changes anything (reload, validate, cancel) must send one as
    /// <c>Authorization: Bearer &lt;key&gt;</c>; with none configured, every such request is refused.
    /// </summary>
    public Dictionary<string, string> Keys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>True to require a key for the read-only routes too (<c>GET /operations</c>, <c>/policies</c>, <c>/vmms</c>); health stays open.</summary>
    public bool ProtectReads { get; set; }

    /// <summary>The largest request body the service reads, in bytes; a larger one is answered 413 before it is read.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>What is wrong with these settings, one line each naming the setting and the fix; empty when they are usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        foreach (var (name, key) in Keys)
        {
            if (string.IsNullOrWhiteSpace(key) || key.Trim().Length < MinimumKeyLength)
            {
                problems.Add(
                    $"Api:Keys:{name} is shorter than {MinimumKeyLength} characters: set Api__Keys__{name} to a random secret, for example the output of 'openssl rand -hex 24'.");
            }
        }

        if (MaxRequestBodyBytes < 1024)
        {
            problems.Add($"Api:MaxRequestBodyBytes is {MaxRequestBodyBytes}: set it to at least 1024 (the default is 1048576).");
        }

        return problems;
    }
}
