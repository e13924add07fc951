using Microsoft.Extensions.Options;

namespace Treecast.Policy.Policies;

/// <summary>
/// Puts the policy files at <see cref="PolicyOptions.PoliciesPath"/> in force. At start a bad file is fatal;
/// afterwards it is logged and the policies already in force stay.
/// </summary>
public sealed class PolicyReloader(
    PolicyLoader loader,
    IPolicyStore store,
    IOptions<PolicyOptions> options,
    ILogger<PolicyReloader> logger)
{
    private readonly Lock _gate = new();

    public string PoliciesPath { get; } = options.Value.ResolvedPoliciesPath;

    /// <exception cref="PolicyValidationException">The files have errors; nothing was put in force.</exception>
    public PolicySet Load()
    {
        lock (_gate)
        {
            var policies = loader.Load(PoliciesPath);
            store.Replace(policies);
            logger.LogInformation(
                "Loaded {PolicyCount} execution policies from {FileCount} file(s) at {PoliciesPath}",
                policies.Policies.Count,
                policies.Files.Count,
                PoliciesPath);
            return policies;
        }
    }

    /// <summary>Loads the files again; on errors logs them and keeps the policies in force.</summary>
    /// <returns>The errors, empty when the new policies are in force.</returns>
    public IReadOnlyList<PolicyError> Reload()
    {
        lock (_gate)
        {
            try
            {
                Load();
                return [];
            }
            catch (PolicyValidationException ex)
            {
                logger.LogError(
                    "Policy reload from {PoliciesPath} refused; the {PolicyCount} policies loaded at {LoadedAt} stay in force. {Errors}",
                    PoliciesPath,
                    store.Current.Policies.Count,
                    store.Current.LoadedAt,
                    ex.Message);
                return ex.Errors;
            }
        }
    }
}
