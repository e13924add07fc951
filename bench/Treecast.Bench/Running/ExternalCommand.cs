using System.Diagnostics;

namespace Treecast.Bench.Running;

/// <summary>Runs a program of the machine (ip, tc, rabbitmqctl, dotnet) to its end.</summary>
public static class ExternalCommand
{
    /// <returns>The program's standard output.</returns>
    /// <param name="advice">Said after the program's own error when it fails: what the user can do about it.</param>
    /// <exception cref="ExternalCommandException">The program exited with a code other than 0.</exception>
    public static async Task<string> RunAsync(string program, string? advice, CancellationToken cancellationToken, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            // The program's first line says what went wrong (rabbitmqctl follows it with a page of diagnostics).
            var reason = (await error).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? string.Empty;
            throw new ExternalCommandException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {reason} {advice}".TrimEnd());
        }

        return await output;
    }
}
