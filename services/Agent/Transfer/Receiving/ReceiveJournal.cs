using System.Text.Json;

namespace Treecast.Agent.Transfer.Receiving;

/// <summary>
/// A receive's durable record in its directory: <c>receive.json</c> (<see cref="ReceiveRecord"/>) and <c>offsets.json</c>
/// (how far each spool is durably stored, written only after the spools were flushed). Each file is written whole to a
/// temporary file, flushed, and renamed over the previous one, so a crash leaves the previous version, never a torn one.
/// </summary>
public sealed class ReceiveJournal(string directory)
{
    private const string ReceiveFile = "receive.json";
    private const string OffsetsFile = "offsets.json";
    private const string TemporarySuffix = ".tmp";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly Lock _gate = new();

    public string Directory { get; } = directory;

    public void Write(ReceiveRecord record) => WriteWhole(ReceiveFile, record);

    public void WriteOffsets(IReadOnlyList<long> offsets, DateTimeOffset at) => WriteWhole(OffsetsFile, new StoredOffsets(offsets, at));

    /// <summary>
    /// The record and the stored offsets (zero where none were stored yet), and when the receive last did anything;
    /// null when the directory holds no record (a receive that crashed before its first one).
    /// </summary>
    public (ReceiveRecord Record, IReadOnlyList<long> Offsets, DateTimeOffset LastActivity)? Read()
    {
        var recordPath = Path.Combine(Directory, ReceiveFile);
        if (!File.Exists(recordPath))
        {
            return null;
        }

        var record = JsonSerializer.Deserialize<ReceiveRecord>(File.ReadAllBytes(recordPath), Json)
            ?? throw new InvalidDataException($"{recordPath} holds no receive record.");
        var offsetsPath = Path.Combine(Directory, OffsetsFile);
        var offsets = File.Exists(offsetsPath) ? JsonSerializer.Deserialize<StoredOffsets>(File.ReadAllBytes(offsetsPath), Json) : null;
        var stored = Enumerable.Range(0, record.Announcement.Vms.Count * Math.Max(record.Stripes, 1))
            .Select(i => offsets is not null && i < offsets.Offsets.Count ? offsets.Offsets[i] : 0)
            .ToList();
        var lastActivity = offsets is null || offsets.At < record.UpdatedAt ? record.UpdatedAt : offsets.At;
        return (record, stored, lastActivity);
    }

    /// <summary>Temporary files a crash left mid-write (the previous version of each file is intact).</summary>
    public static int DeleteLeftovers(string directory)
    {
        var leftovers = System.IO.Directory.EnumerateFiles(directory, "*" + TemporarySuffix).ToList();
        foreach (var leftover in leftovers)
        {
            File.Delete(leftover);
        }

        return leftovers.Count;
    }

    private void WriteWhole<T>(string name, T value)
    {
        var path = Path.Combine(Directory, name);
        var temporary = path + TemporarySuffix;
        lock (_gate)
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(file, value, Json);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
    }

    private sealed record StoredOffsets(IReadOnlyList<long> Offsets, DateTimeOffset At);
}
