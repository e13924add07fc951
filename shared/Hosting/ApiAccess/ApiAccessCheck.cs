using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Treecast.Hosting.ApiAccess;

/// <summary>
/// Checks the <c>Api</c> settings at start: a weak key stops the service with one line per problem (exit code 2), not a
/// stack trace; no key at all is allowed (the service still serves its bus and its read-outs) but said loudly.
/// </summary>
internal sealed class ApiAccessCheck(
    IOptions<ApiAccessOptions> options,
    ApiCommandRoutes commandRoutes,
    IHostApplicationLifetime lifetime,
    ILogger<ApiAccessCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var problems = options.Value.Problems();
        foreach (var problem in problems)
        {
            logger.LogCritical("{Problem}", problem);
        }

        if (problems.Count > 0)
        {
            Environment.ExitCode = 2;
            lifetime.StopApplication();
        }
        else if (options.Value.Keys.Count == 0 && commandRoutes.Served)
        {
            logger.LogWarning(
                "No API key is configured (Api:Keys): every request that changes something (reload, validate, cancel) is refused with 401. Set Api__Keys__<name>=<secret> to allow them.");
        }
        else if (options.Value.Keys.Count > 0)
        {
            logger.LogInformation(
                "API keys configured: {KeyNames}; read-only routes are {Reads}",
                string.Join(", ", options.Value.Keys.Keys),
                options.Value.ProtectReads ? "protected too" : "open (Api:ProtectReads=false)");
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
