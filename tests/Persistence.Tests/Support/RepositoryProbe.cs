namespace Treecast.Persistence.Tests.Support;

/// <summary>Asks <see cref="RepositoryProbeConsumer"/> to run the script registered under <paramref name="ScriptId"/>.</summary>
public sealed record RepositoryProbe(Guid ScriptId);
