using System.Globalization;

namespace Treecast.Agent.Hosting;

/// <summary>
/// An agent's work directory, held exclusively (a lock file) while the agent runs there: what it keeps across restarts
/// (VM images, receives, the gRPC port it bound), and what a crash left that it reclaims at start.
/// </summary>
public sealed class AgentWorkDirectory : IDisposable
{
    private const string LockFile = "agent.lock";
    private const string PortFile = "grpc-port";

    private readonly FileStream _lock;

    private AgentWorkDirectory(string path, FileStream held)
    {
        Path = path;
        _lock = held;
    }

    public string Path { get; }

    /// <summary>The VMM driver's directory.</summary>
    public string Vms => System.IO.Path.Combine(Path, "vms");

    /// <summary>One directory per operation received (<c>receives/{operation}</c>).</summary>
    public string Receives => System.IO.Path.Combine(Path, "receives");

    /// <summary>
    /// Takes the directory for <paramref name="vmmId"/>, creating it when missing. Fails with one line naming the directory
    /// and <c>Agent:WorkDirectory</c> when another agent holds it; the lock goes with the process, so a crash leaves none.
    /// </summary>
    public static AgentWorkDirectory Acquire(string path, string vmmId)
    {
        Directory.CreateDirectory(path);
        FileStream held;
        try
        {
            // FileShare.None is an exclusive lock the OS releases with the process (flock on Linux).
            held = new FileStream(System.IO.Path.Combine(path, LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new WorkDirectoryInUseException(
                $"Agent {vmmId} cannot start: its work directory {path} is in use by another agent (is {vmmId} already running on this machine?); stop that agent, or give this one a work directory of its own with Agent:WorkDirectory.",
                e);
        }

        held.SetLength(0);
        held.Write(System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture)));
        held.Flush();
        return new AgentWorkDirectory(path, held);
    }

    /// <summary>The gRPC port the agent bound last time it ran here, if it recorded one.</summary>
    public int? RememberedPort =>
        File.Exists(System.IO.Path.Combine(Path, PortFile))
        && int.TryParse(File.ReadAllText(System.IO.Path.Combine(Path, PortFile)).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
        && port is > 0 and <= 65535
            ? port
            : null;

    /// <summary>Records the bound port, so a restarted agent binds it again and its parent's retrying forwarder finds it.</summary>
    public void RememberPort(int port) => File.WriteAllText(System.IO.Path.Combine(Path, PortFile), port.ToString(CultureInfo.InvariantCulture));

    public void Dispose() => _lock.Dispose();
}
