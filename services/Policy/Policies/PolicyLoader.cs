namespace Treecast.Policy.Policies;

/// <summary>
/// Loads a policy file, or every <c>*.yaml</c>/<c>*.yml</c> file of a directory, into one
/// <see cref="PolicySet"/>; any error in any file fails the whole load, so a set is never half applied.
/// </summary>
public sealed class PolicyLoader(PolicyFileReader reader, TimeProvider time)
{
    /// <exception cref="PolicyValidationException">Every error found, across all files.</exception>
    public PolicySet Load(string path)
    {
        var files = new List<PolicyFileContent>();
        foreach (var file in PolicyFilesAt(path))
        {
            byte[] content;
            try
            {
                content = File.ReadAllBytes(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new PolicyValidationException(
                    [new PolicyError(file, 1, 1, $"cannot read the file: {ex.Message} (check that it exists and is readable)")]);
            }

            files.Add(reader.Read(file, content));
        }

        return Combine(files);
    }

    /// <summary>Checks one file's content as if it were the only file (the validate endpoint).</summary>
    /// <exception cref="PolicyValidationException">Every error found.</exception>
    public PolicySet Parse(string file, byte[] content) => Combine([reader.Read(file, content)]);

    /// <summary>The policy files a path names, in a stable order.</summary>
    public static IReadOnlyList<string> PolicyFilesAt(string path)
    {
        if (File.Exists(path))
        {
            return [path];
        }

        if (Directory.Exists(path))
        {
            return Directory.EnumerateFiles(path)
                .Where(IsPolicyFile)
                .Order(StringComparer.Ordinal)
                .ToList();
        }

        throw new PolicyValidationException(
            [new PolicyError(path, 1, 1, "no such file or directory (set Policy:PoliciesPath to a policy file or to a directory of *.yaml files)")]);
    }

    public static bool IsPolicyFile(string path) =>
        path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);

    private PolicySet Combine(IReadOnlyList<PolicyFileContent> files)
    {
        var errors = files.SelectMany(f => f.Errors).ToList();
        var byName = new Dictionary<string, ExecutionPolicy>(StringComparer.OrdinalIgnoreCase);
        foreach (var policy in files.SelectMany(f => f.Policies))
        {
            if (byName.TryGetValue(policy.Name, out var first))
            {
                errors.Add(new PolicyError(
                    policy.Source.File,
                    policy.Source.Line,
                    policy.Source.Column,
                    $"duplicate policy name '{policy.Name}', already defined at {first.Source.File}:{first.Source.Line}:{first.Source.Column} (give each policy a unique name)"));
                continue;
            }

            byName.Add(policy.Name, policy);
        }

        if (errors.Count > 0)
        {
            throw new PolicyValidationException(errors);
        }

        return new PolicySet(
            files.SelectMany(f => f.Policies).ToList(),
            files.Select(f => new PolicyFile(f.File, f.Sha256, f.Policies.Select(p => p.Name).ToList())).ToList(),
            time.GetUtcNow());
    }
}
