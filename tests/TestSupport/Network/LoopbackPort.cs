using System.Net;
using System.Net.Sockets;

namespace Treecast.TestSupport.Network;

/// <summary>Ports on the loopback address for a test's own listeners.</summary>
public static class LoopbackPort
{
    /// <summary>A port the system just handed out and nothing listens on now (it may be taken again before it is used).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
