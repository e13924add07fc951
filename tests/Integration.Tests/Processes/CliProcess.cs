using Treecast.TestSupport.Processes;

namespace Treecast.Integration.Tests.Processes;

/// <summary>The <c>treecast</c> command as an operator runs it: a process, its exit code, stdout and stderr apart.</summary>
public static class CliProcess
{
    public static Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] arguments) =>
        StandaloneProcess.RunDllAsync(RepositoryLayout.CliDll(), new Dictionary<string, string>(), arguments, TimeSpan.FromMinutes(5));
}
