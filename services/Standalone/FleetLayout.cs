namespace Treecast.Standalone;

/// <summary>Host ids and network locations of the embedded fleet: racks are contiguous blocks of hosts.</summary>
public static class FleetLayout
{
    public static IReadOnlyList<FleetHost> Build(int hosts, int racks, int pods)
    {
        var width = Math.Max(2, hosts.ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        var result = new List<FleetHost>(hosts);
        for (var i = 0; i < hosts; i++)
        {
            var rack = i * racks / hosts;
            var pod = rack * pods / racks;
            var id = "host-" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(width, '0');
            result.Add(new FleetHost(id, $"site-1/pod-{pod + 1}/rack-{rack + 1}"));
        }

        return result;
    }
}
