using System.Diagnostics;
using Treecast.Agent.Tests.Vmm;

namespace Treecast.Agent.Tests.Qemu;

/// <summary>
/// What the QEMU specs need: the emulator, and the counter guest built fresh from infra/guest into a directory of
/// their own (whose path is on every QEMU command line, so leftover QEMUs of these specs can be found and counted).
/// </summary>
public sealed class QemuFixture : IDisposable
{
    public const string Binary = "qemu-system-x86_64";

    private readonly TemporaryDirectory _directory = new();

    public QemuFixture()
    {
        if (FindOnPath(Binary) is null)
        {
            SkipReason = $"{Binary} is not installed (apt-get install qemu-system-x86)";
            return;
        }

        var repository = FindRepository();
        var script = repository is null ? null : Path.Combine(repository, "infra", "guest", "build.sh");
        var image = _directory.Sub("counter.img");
        if (script is not null && File.Exists(script) && FindOnPath("nasm") is not null)
        {
            var (exitCode, output) = Run("/bin/sh", script, image);
            if (exitCode != 0)
            {
                throw new InvalidOperationException($"infra/guest/build.sh failed with code {exitCode}: {output}");
            }
        }
        else if (repository is not null && File.Exists(Path.Combine(repository, "infra", "guest", "counter.img")))
        {
            File.Copy(Path.Combine(repository, "infra", "guest", "counter.img"), image);
        }
        else
        {
            SkipReason = "the counter guest cannot be built (nasm is not installed: apt-get install nasm) and infra/guest/counter.img does not exist";
            return;
        }

        BootImage = image;
    }

    /// <summary>Why the QEMU specs cannot run here; null when they can.</summary>
    public string? SkipReason { get; }

    public string BootImage { get; } = string.Empty;

    /// <summary>The directory every QEMU of these specs names on its command line (through the boot image).</summary>
    public string Marker => _directory.Path;

    public string Sub(string name)
    {
        var path = _directory.Sub($"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)]);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Process ids of running QEMUs whose command line contains <paramref name="marker"/>.</summary>
    public static IReadOnlyList<int> QemuProcesses(string marker)
    {
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                var status = File.ReadAllText(Path.Combine(directory, "stat"));

                // A zombie (state Z) has exited; only its parent's wait is missing.
                var state = status[(status.LastIndexOf(')') + 2)..].FirstOrDefault();
                if (commandLine.Contains(Binary, StringComparison.Ordinal) && commandLine.Contains(marker, StringComparison.Ordinal) && state != 'Z')
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
                // Not ours.
            }
        }

        return found;
    }

    public void Dispose()
    {
        var leftovers = SkipReason is null ? QemuProcesses(Marker) : [];
        foreach (var pid in leftovers)
        {
            try
            {
                Process.GetProcessById(pid).Kill();
            }
            catch (ArgumentException)
            {
                // Gone already.
            }
        }

        _directory.Dispose();
        if (leftovers.Count > 0)
        {
            throw new InvalidOperationException($"{leftovers.Count} QEMU processes survived the QEMU specs (killed now): {string.Join(", ", leftovers)}");
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);

    private static string? FindRepository()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (Directory.Exists(Path.Combine(directory.FullName, "infra", "guest")))
            {
                return directory.FullName;
            }
        }

        return null;
    }

    private static (int ExitCode, string Output) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error);
    }
}
