namespace Treecast.Topology.Trees;

/// <summary>A network location split into levels, most general first (site, pod, rack, ...).</summary>
internal static class ProximityPath
{
    /// <summary>Stands for a level a location does not name; all such hosts of one parent group share it.</summary>
    public const string Missing = "";

    /// <summary>The levels of a rack (site/pod/rack): links that leave a rack are the expensive ones.</summary>
    public const int RackLevels = 3;

    public static string[] Split(string? location) =>
        string.IsNullOrWhiteSpace(location)
            ? []
            : location.Trim().Trim('/').Split('/', StringSplitOptions.TrimEntries);

    public static string Level(string[] path, int level) => level < path.Length ? path[level] : Missing;

    /// <summary>The group at <paramref name="levels"/> levels (3 = rack), as a comparable key.</summary>
    public static string Prefix(string? location, int levels)
    {
        var path = Split(location);
        return string.Join('/', Enumerable.Range(0, levels).Select(i => Level(path, i)));
    }

    /// <summary>Parent–child links of <paramref name="tree"/> that leave a group of <paramref name="levels"/> levels.</summary>
    public static int CrossLinks(Contracts.VmmTree tree, int levels)
    {
        var prefixes = tree.Nodes.ToDictionary(n => n.VmmId, n => Prefix(n.Location, levels), StringComparer.Ordinal);
        return tree.Nodes.Count(n =>
            n.ParentVmmId is not null
            && prefixes.TryGetValue(n.ParentVmmId, out var parent)
            && parent != prefixes[n.VmmId]);
    }
}
