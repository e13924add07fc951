using Treecast.Contracts;
using Treecast.Policy.Evaluation;
using Treecast.Policy.Policies;

namespace Treecast.Standalone;

/// <summary>
/// What the embedded run checks before it starts anything: the policies load and one of them acts on the run's event,
/// and the disk can hold every copy. Each problem is one line naming the input and the fix, not a stack trace minutes in.
/// </summary>
public static class RunPreflight
{
    /// <summary>Headroom beyond the copies themselves: spool checkpoints, journals, logs.</summary>
    private const long MarginBytes = 256L << 20;

    /// <summary>The first problem found, or null when the run can start.</summary>
    public static string? Check(StandaloneOptions options, string policiesPath, string rootVmmId, string runDirectory)
    {
        return PolicyProblem(options, policiesPath, rootVmmId) ?? SpaceProblem(options, runDirectory);
    }

    /// <summary>Bytes the run writes at most: the root's images and one copy of each on every other host.</summary>
    public static long BytesNeeded(StandaloneOptions options)
    {
        // A QEMU image is the guest's saved state: about its RAM, a little more with device state.
        var imageBytes = options.IsQemu ? (options.VmMemoryMiB + 16L) << 20 : (long)options.ImageMiB << 20;
        return options.Hosts * options.VmsPerHost * imageBytes;
    }

    private static string? PolicyProblem(StandaloneOptions options, string policiesPath, string rootVmmId)
    {
        var option = options.PoliciesPath is null ? "the generated policies" : $"--policies {options.PoliciesPath}";
        if (!File.Exists(policiesPath) && !Directory.Exists(policiesPath))
        {
            return $"{option}: no such file or directory; give a policy file or a directory of *.yaml files (infra/policies has examples)";
        }

        PolicySet set;
        try
        {
            set = new PolicyLoader(new PolicyFileReader(), TimeProvider.System).Load(policiesPath);
        }
        catch (PolicyValidationException ex)
        {
            var more = ex.Errors.Count > 1 ? $" (and {ex.Errors.Count - 1} more errors)" : string.Empty;
            return $"{option}: {ex.Errors[0]}{more}";
        }

        if (set.Policies.Count == 0)
        {
            return $"{option} holds no policy; add one (see infra/policies for examples) or leave out --policies";
        }

        var observed = options.IsDeadlineRun
            ? ObservedEvent.FromWorkloadStarted(new WorkloadStarted("preflight", rootVmmId, DateTimeOffset.UtcNow), null)
            : ObservedEvent.FromExternal(new ExternalEvent
            {
                Type = "host.degraded",
                Vmm = rootVmmId,
                Severity = "critical",
                OccurredAt = DateTimeOffset.UtcNow,
            });
        var decision = new PolicyEvaluator().Evaluate(observed, set.Policies, DateTimeOffset.UtcNow);
        if (options.IsDeadlineRun && decision.DeadlineWatches.Count == 0)
        {
            return $"{option}: no policy watches the deadline of a workload.started event on {rootVmmId}, so nothing would happen; "
                + "add a policy 'on: {type: workload.started}' with a 'duplicateIfNotCompletedWithin' action, or leave out --policies";
        }

        if (!options.IsDeadlineRun && decision.Broadcasts.Count == 0)
        {
            return $"{option}: no policy starts a broadcast for the run's event (host.degraded, severity critical, on {rootVmmId}), "
                + "so nothing would happen; add a policy 'on: {type: host.degraded}' with a 'broadcast' action, or leave out --policies";
        }

        return null;
    }

    private static string? SpaceProblem(StandaloneOptions options, string runDirectory)
    {
        var needed = BytesNeeded(options) + MarginBytes;
        long available;
        try
        {
            available = new DriveInfo(runDirectory).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null; // Cannot tell: the write itself will say if space runs out.
        }

        if (available >= needed)
        {
            return null;
        }

        var sizes = options.IsQemu ? $"--vm-memory-mib {options.VmMemoryMiB}" : $"--image-mib {options.ImageMiB}";
        return $"the run needs {Format.Bytes(needed)} of disk for --hosts {options.Hosts} × --vms {options.VmsPerHost} × {sizes}, "
            + $"but {Path.GetDirectoryName(runDirectory)} has {Format.Bytes(available)} free; lower those options or point TMPDIR "
            + "at a larger disk";
    }
}
