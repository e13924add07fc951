using Treecast.Agent.Vmm;

namespace Treecast.Agent.Tests.Support;

/// <summary>Gives a test agent's node a <see cref="FileVmm"/> holding the images the test asked for.</summary>
public sealed class FileVmmFactory(IEnumerable<(string VmId, long Bytes)>? images) : IVmmFactory
{
    public IVmm Create(AgentOptions options, string workDirectory) => new FileVmm(options.VmmId, workDirectory, images);
}
