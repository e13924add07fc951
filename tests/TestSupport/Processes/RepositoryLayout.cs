namespace Treecast.TestSupport.Processes;

/// <summary>Finds the repository and the build output of each service, in the configuration the tests were built in.</summary>
public static class RepositoryLayout
{
    public static string Root { get; } = FindRoot();

    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            ? "Release"
            : "Debug";

    /// <summary>The built entry assembly of <c>services/{name}</c>, e.g. <c>ServiceDll("Topology")</c>.</summary>
    public static string ServiceDll(string name)
    {
        var path = Path.Combine(Root, "services", name, "bin", Configuration, "net10.0", $"Treecast.{name}.dll");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} is missing: build the solution first (tools/test.sh does)", path);
        }

        return path;
    }

    /// <summary>The variable naming the folder of a published agent image for the tests to run (tools/test.sh sets it).</summary>
    public const string AgentImageVariable = "TREECAST_AGENT_IMAGE";

    /// <summary>
    /// The agent the tests start: the image's publish when <see cref="AgentImageVariable"/> names its folder
    /// (tools/test.sh publishes the agent as services/Agent/Dockerfile does, trimmed, so the tests run what deploys),
    /// else the build output.
    /// </summary>
    public static string AgentDll()
    {
        var image = Environment.GetEnvironmentVariable(AgentImageVariable);
        if (string.IsNullOrEmpty(image))
        {
            return ServiceDll("Agent");
        }

        var path = Path.Combine(image, "Treecast.Agent.dll");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{AgentImageVariable}={image} holds no Treecast.Agent.dll: publish the agent there (tools/test.sh does) or unset it to run the build output", path);
    }

    /// <summary>The built <c>treecast</c> command (services/Cli).</summary>
    public static string CliDll()
    {
        var path = Path.Combine(Root, "services", "Cli", "bin", Configuration, "net10.0", "treecast.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build the solution first (tools/test.sh does)", path);
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Microservices.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no Microservices.sln above {AppContext.BaseDirectory}");
    }
}
