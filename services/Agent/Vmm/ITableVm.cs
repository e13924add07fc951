namespace Treecast.Agent.Vmm;

/// <summary>
/// A VM as its VMM's <see cref="VmTable{TVm}"/> sees it. Each VM guards its own state; the table calls these under its
/// lock, so a VM never calls back into the table while it holds its own.
/// </summary>
internal interface ITableVm
{
    string VmId { get; }

    /// <summary>The VM as it stands at <paramref name="now"/>, a timestamp of the VMM's clock.</summary>
    VmInfo InfoAt(long now);

    /// <summary>The workload the VM carries and how far it got by <paramref name="now"/>; null when it carries none.</summary>
    CarriedWorkload? WorkloadAt(long now);
}

/// <summary>A workload one VM carries: done when its progress reaches its target.</summary>
internal sealed record CarriedWorkload(string WorkloadId, long Progress, long Target)
{
    public bool IsDone => Progress >= Target;
}
