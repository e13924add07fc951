using System.CommandLine;
using Treecast.Certs;

var root = new RootCommand("Creates the certificates of a Treecast fleet: a CA and one certificate per agent (mutual TLS between agents).")
{
    CreateCommand.Build(),
};

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // One line that names the input, not the whole help text.
    Console.Error.WriteLine($"treecast-certs: {string.Join(" ", parsed.Errors.Select(e => e.Message))} (see --help)");
    return 2;
}

return parsed.Invoke();
