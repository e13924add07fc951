using System.CommandLine;

namespace Treecast.Cli;

/// <summary>Where the deployed services are: options with environment defaults, so a shell sets them once.</summary>
public static class ServiceOptions
{
    public static Option<string> PolicyUrl() => new("--policy-url")
    {
        Description = "The policy service's HTTP address (env TREECAST_POLICY_URL; docker compose publishes it on 127.0.0.1:8080).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TREECAST_POLICY_URL") ?? "http://127.0.0.1:8080",
    };

    public static Option<string> TopologyUrl() => new("--topology-url")
    {
        Description = "The topology service's HTTP address (env TREECAST_TOPOLOGY_URL).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TREECAST_TOPOLOGY_URL") ?? "http://127.0.0.1:5001",
    };

    public static Option<string?> ApiKey() => new("--api-key")
    {
        Description = "An API key of the policy service (Api__Keys__<name>) for commands that change something (env TREECAST_API_KEY).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TREECAST_API_KEY"),
    };

    public static Option<bool> Json() => new("--json") { Description = "Print the service's answer as JSON." };

    public static ServiceClient Policy(string url, string? apiKey) =>
        new("policy service", ParseUrl(url, "--policy-url"), apiKey, "--policy-url (or TREECAST_POLICY_URL)");

    public static ServiceClient Topology(string url) =>
        new("topology service", ParseUrl(url, "--topology-url"), null, "--topology-url (or TREECAST_TOPOLOGY_URL)");

    private static Uri ParseUrl(string text, string option) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new CliException(ExitCodes.Usage, $"{option} '{text}' is not an http:// or https:// address, for example http://127.0.0.1:8080");
}
