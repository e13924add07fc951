namespace Treecast.Fault.Tests.Fleet;

/// <summary>
/// What the whole suite did, over both stores, as the one line CI prints:
/// <c>faults: N operations, N faults injected, N completed, N copies verified, 0 corrupt, 0 wrong duplications</c>.
/// Written when the suite ends to standard output and, when <c>TREECAST_FAULTS_REPORT</c> names a file, there
/// (tools/test.sh prints it after the test summary).
/// </summary>
public sealed class FaultFigures : IDisposable
{
    private int _operations;
    private int _faults;
    private int _completed;
    private int _verified;
    private int _corrupt;
    private int _wrongDuplications;

    public void Operation() => Interlocked.Increment(ref _operations);

    public void Fault() => Interlocked.Increment(ref _faults);

    /// <summary>An operation that ended as its scenario requires.</summary>
    public void Completed() => Interlocked.Increment(ref _completed);

    public void Verified(int copies) => Interlocked.Add(ref _verified, copies);

    public void Corrupt(int copies) => Interlocked.Add(ref _corrupt, copies);

    public void WrongDuplications(int count) => Interlocked.Add(ref _wrongDuplications, count);

    public string Line =>
        $"faults: {_operations} operations, {_faults} faults injected, {_completed} completed, {_verified} copies verified, "
        + $"{_corrupt} corrupt, {_wrongDuplications} wrong duplications";

    public void Dispose()
    {
        Console.WriteLine(Line);
        if (Environment.GetEnvironmentVariable("TREECAST_FAULTS_REPORT") is { Length: > 0 } report)
        {
            File.WriteAllText(report, Line + Environment.NewLine);
        }
    }
}
