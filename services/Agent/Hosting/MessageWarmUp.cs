using System.Text.Json;
using MassTransit.Serialization;
using Treecast.Agent.Transfer.Receiving;
using Treecast.Contracts;

namespace Treecast.Agent.Hosting;

/// <summary>
/// Writes and reads one sample of each message of an operation's hot path with the bus's serializer settings, and a
/// receive's record with the journal's, once at start: System.Text.Json builds its converters and emits its accessors
/// for a type the first time it meets it, and the fresh agents of a fleet all meet the announcement at once, on the
/// same cores, between the saga's announce and its start. The samples go nowhere.
/// </summary>
public static class MessageWarmUp
{
    public static void Run()
    {
        var operation = Guid.NewGuid();
        var image = new VmImage("vm-1", 1, new string('0', 64), new VmDefinition("simulated", 1, "pc", null));
        var tree = new VmmTree(1, "root", 1, [new TreeNode("root", null, "site/pod/rack", "https://root:1"), new TreeNode("vmm", "root", "site/pod/rack", "https://vmm:1", ["root"])]);
        var announced = new PendingTransferAnnounced(operation, "root", tree, [image], "token", 1, BroadcastMode.Broadcast);
        var copy = new VmCopy("vm-1", image.Sha256, VmState.Paused);
        object[] messages =
        [
            new PauseVms(operation, "root"),
            new VmsPaused(operation, "root", [image]),
            new AnnouncePendingTransfer(operation, "root", tree, [image], 1, BroadcastMode.Broadcast),
            announced,
            new ReadyToReceive(operation, "vmm"),
            new StartTransfer(operation, "root"),
            new TransferProgressed(operation, "vmm", 0, 1),
            new VmsReceived(operation, "vmm", [copy]),
        ];
        foreach (var message in messages)
        {
            RoundTrip(message, SystemTextJsonMessageSerializer.Options);
        }

        RoundTrip(new ReceiveRecord(announced, [image], [], DateTimeOffset.UtcNow), ReceiveJournal.Json);
    }

    private static void RoundTrip(object sample, JsonSerializerOptions options) =>
        _ = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(sample, sample.GetType(), options), sample.GetType(), options);
}
