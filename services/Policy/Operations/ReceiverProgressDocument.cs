using MongoDB.Bson;
using MongoDB.Bson.Serialization.Attributes;

namespace Treecast.Policy.Operations;

/// <summary>
/// One receiver's progress as stored in <c>operation_progress</c>: <c>_id</c> is <c>{operation id}/{VMM id}</c>, so a
/// report is one upsert of one document; operators find an operation's receivers by <c>OperationId</c> (indexed).
/// </summary>
public sealed class ReceiverProgressDocument
{
    public string Id { get; set; } = string.Empty;

    public Guid OperationId { get; set; }

    public string VmmId { get; set; } = string.Empty;

    // Byte counts are stored as doubles (exact below 8 PiB): $max and range queries then compare them as numbers on every
    // server, including the wire-compatible test emulator, which compares 64-bit integers as strings ("9000" > "12288").
    [BsonRepresentation(BsonType.Double)]
    public long BytesReceived { get; set; }

    [BsonRepresentation(BsonType.Double)]
    public long TotalBytes { get; set; }

    public DateTimeOffset LastProgressAt { get; set; }

    public static string IdOf(Guid operationId, string vmmId) => $"{operationId:D}/{vmmId}";

    public ReceiverProgress ToProgress() => new(OperationId, VmmId, BytesReceived, TotalBytes, LastProgressAt);
}
