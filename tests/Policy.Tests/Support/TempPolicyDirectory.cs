namespace Treecast.Policy.Tests.Support;

/// <summary>A temporary directory of policy files, deleted at the end of the test.</summary>
public sealed class TempPolicyDirectory : IDisposable
{
    public TempPolicyDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "treecast-policies-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string fileName, string yaml)
    {
        var file = System.IO.Path.Combine(Path, fileName);
        File.WriteAllText(file, yaml);
        return file;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A watcher may still hold the directory for a moment; the OS temp cleaner gets it later.
        }
    }
}
