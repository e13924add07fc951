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
