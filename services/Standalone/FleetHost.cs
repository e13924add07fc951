namespace Treecast.Standalone;

/// <summary>One host of the embedded fleet: its VMM id and its network location (site/pod/rack).</summary>
public sealed record FleetHost(string VmmId, string Location);
