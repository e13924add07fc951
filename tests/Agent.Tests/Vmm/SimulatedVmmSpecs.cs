using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Treecast.Agent.Vmm;
using Treecast.Contracts;

namespace Treecast.Agent.Tests.Vmm;

public sealed partial class SimulatedVmmSpecs : IDisposable
{
    private const long ImageBytes = 256 * 1024;

    // Not a multiple of the 1 MiB write block, nor of the 8-byte generator word.
    private const long OddImageBytes = (2L << 20) + 4096 + 13;

    // host-01-vm-1 at ImageBytes, as computed by an independent implementation of the image format (Python).
    private const string PinnedSha256OfHost01Vm1 = "27e5b3205a42f58ce666cd9f591b20d2b53a3a7092815f8476dbbf5e19fb549d";

    private readonly TemporaryDirectory _directory = new();
    private readonly FakeTimeProvider _time = new();
    private readonly List<SimulatedVmm> _vmms = [];

    public void Dispose()
    {
        foreach (var vmm in _vmms)
        {
            vmm.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        _directory.Dispose();
    }

    [Fact]
    public void Should_name_vms_after_their_vmm_and_start_them_running()
    {
        var vmm = Create("host-01", vmCount: 2);

        Assert.Equal(["host-01-vm-1", "host-01-vm-2"], vmm.Vms.Select(v => v.VmId));
        Assert.All(vmm.Vms, v => Assert.Equal(VmState.Running, v.State));
        Assert.All(vmm.Vms, v => Assert.Equal(ImageBytes, v.Bytes));
        Assert.All(vmm.Vms, v => Assert.Null(v.Sha256));
    }

    [Fact]
    public async Task Should_produce_byte_identical_images_for_the_same_vm_in_two_vmms()
    {
        var first = Create("host-01", vmCount: 1, directory: "a");
        var second = Create("host-01", vmCount: 1, directory: "b");

        var a = Assert.Single(await first.PauseAllAsync(CancellationToken.None));
        var b = Assert.Single(await second.PauseAllAsync(CancellationToken.None));

        Assert.Equal(a, b);
        await using var streamA = first.OpenImage(a.VmId);
        await using var streamB = second.OpenImage(b.VmId);
        Assert.True(await SameBytesAsync(streamA, streamB));
    }

    [Fact]
    public async Task Should_produce_the_same_image_in_every_process()
    {
        // A digest computed once and pinned: a per-process hash (string.GetHashCode) in the seed would break it.
        var vmm = Create("host-01", vmCount: 1);

        var image = Assert.Single(await vmm.PauseAllAsync(CancellationToken.None));

        Assert.Equal(PinnedSha256OfHost01Vm1, image.Sha256);
    }

    [Fact]
    public async Task Should_produce_different_images_for_different_vms()
    {
        var vmm = Create("host-01", vmCount: 2);

        var images = await vmm.PauseAllAsync(CancellationToken.None);

        Assert.NotEqual(images[0].Sha256, images[1].Sha256);
        await using var first = vmm.OpenImage(images[0].VmId);
        await using var second = vmm.OpenImage(images[1].VmId);
        first.Position = second.Position = 4096;
        var a = new byte[4096];
        var b = new byte[4096];
        await first.ReadExactlyAsync(a);
        await second.ReadExactlyAsync(b);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public async Task Should_report_a_stable_digest_that_matches_the_image()
    {
        var vmm = Create("host-01", vmCount: 1);

        var first = Assert.Single(await vmm.PauseAllAsync(CancellationToken.None));
        _time.Advance(TimeSpan.FromSeconds(5));
        var again = Assert.Single(await vmm.PauseAllAsync(CancellationToken.None));

        Assert.Equal(first.Sha256, again.Sha256);
        Assert.Matches("^[0-9a-f]{64}$", first.Sha256);
        Assert.Equal(first.Sha256, await Sha256Async(vmm.OpenImage(first.VmId)));
        Assert.Equal(first.Sha256, Assert.Single(vmm.Vms).Sha256);
        Assert.Equal(VmState.Paused, Assert.Single(vmm.Vms).State);
    }

    [Fact]
    public async Task Should_write_images_whose_size_is_not_a_multiple_of_the_block_size()
    {
        var odd = Create("host-01", vmCount: 1, imageBytes: OddImageBytes, directory: "odd");
        var small = Create("host-01", vmCount: 1, imageBytes: 4096 + 5, directory: "small");

        var image = Assert.Single(await odd.PauseAllAsync(CancellationToken.None));
        var smallImage = Assert.Single(await small.PauseAllAsync(CancellationToken.None));

        Assert.Equal(OddImageBytes, image.Bytes);
        await using var stream = odd.OpenImage(image.VmId);
        Assert.Equal(OddImageBytes, stream.Length);
        Assert.Equal(image.Sha256, await Sha256Async(odd.OpenImage(image.VmId)));

        // The content depends on the VM id only, not on the size: a smaller image is a prefix of a larger one.
        await using var smallStream = small.OpenImage(smallImage.VmId);
        Assert.Equal(4096 + 5, smallStream.Length);
        var prefix = new byte[4096 + 5];
        await stream.ReadExactlyAsync(prefix);
        var whole = new byte[4096 + 5];
        await smallStream.ReadExactlyAsync(whole);
        Assert.Equal(whole, prefix);
        Assert.Contains(prefix.Skip(4096), b => b != 0);
    }

    [Fact]
    public async Task Should_advance_the_workload_only_while_the_vms_run()
    {
        var vmm = Create("host-01", vmCount: 1);
        await vmm.StartWorkloadAsync("job-1", TimeSpan.FromSeconds(10), CancellationToken.None);

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(200, Assert.Single(vmm.Vms).WorkloadProgress);
        Assert.Equal(1000, Assert.Single(vmm.Vms).WorkloadTarget);

        await vmm.PauseAllAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(200, Assert.Single(vmm.Vms).WorkloadProgress);

        await vmm.ResumeAsync("host-01-vm-1", newIdentity: false, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(500, Assert.Single(vmm.Vms).WorkloadProgress);
    }

    [Fact]
    public async Task Should_complete_once_when_every_vm_reaches_its_target()
    {
        var vmm = Create("host-01", vmCount: 2);
        var completions = new List<string>();
        vmm.WorkloadCompleted += completions.Add;
        await vmm.StartWorkloadAsync("job-1", TimeSpan.FromSeconds(1), CancellationToken.None);

        _time.Advance(TimeSpan.FromMilliseconds(500));
        await vmm.PauseAllAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(10));
        await vmm.ResumeAsync("host-01-vm-1", newIdentity: false, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(completions);

        await vmm.ResumeAsync("host-01-vm-2", newIdentity: false, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(490));
        Assert.Empty(completions);
        _time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Equal(["job-1"], completions);

        _time.Advance(TimeSpan.FromMinutes(5));
        await vmm.PauseAllAsync(CancellationToken.None);
        await vmm.ResumeAsync("host-01-vm-1", newIdentity: false, CancellationToken.None);
        Assert.Equal(["job-1"], completions);
    }

    [Fact]
    public async Task Should_continue_an_adopted_copy_from_its_copied_progress_and_complete_there()
    {
        var root = Create("host-01", vmCount: 1, directory: "root");
        var receiver = Create("host-02", vmCount: 0, directory: "receiver");
        var rootCompletions = new List<string>();
        var receiverCompletions = new List<string>();
        root.WorkloadCompleted += rootCompletions.Add;
        receiver.WorkloadCompleted += receiverCompletions.Add;
        await root.StartWorkloadAsync("job-1", TimeSpan.FromSeconds(1), CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(400));

        var image = Assert.Single(await root.PauseAllAsync(CancellationToken.None));
        var spooled = await CopyToSpoolAsync(root, image.VmId);
        await receiver.AdoptAsync(image.VmId, spooled, image.Sha256, CancellationToken.None);

        Assert.False(File.Exists(spooled), "adoption moves the received file in");
        var adopted = Assert.Single(receiver.Vms);
        Assert.Equal((image.VmId, VmState.Paused, image.Bytes, image.Sha256), (adopted.VmId, adopted.State, adopted.Bytes, adopted.Sha256));
        Assert.Equal((40L, 100L), (adopted.WorkloadProgress, adopted.WorkloadTarget));

        var copy = await receiver.ResumeAsync(image.VmId, newIdentity: true, CancellationToken.None);
        Assert.Equal(image.Sha256, copy.Sha256);
        Assert.Equal(VmState.Running, copy.State);
        _time.Advance(TimeSpan.FromMilliseconds(590));
        Assert.Empty(receiverCompletions);
        _time.Advance(TimeSpan.FromMilliseconds(10));

        Assert.Equal(["job-1"], receiverCompletions);
        Assert.Empty(rootCompletions);
        Assert.Equal(40, Assert.Single(root.Vms).WorkloadProgress);
    }

    [Fact]
    public async Task Should_give_a_copy_a_locally_administered_mac_of_its_own()
    {
        var vmm = Create("host-01", vmCount: 1);
        var original = Assert.Single(vmm.Vms).MacAddress;
        await vmm.PauseAllAsync(CancellationToken.None);

        var copy = await vmm.ResumeAsync("host-01-vm-1", newIdentity: true, CancellationToken.None);

        Assert.NotNull(copy.MacAddress);
        Assert.NotEqual(original, copy.MacAddress);
        Assert.Matches(MacPattern(), copy.MacAddress);
        var firstOctet = Convert.ToByte(copy.MacAddress[..2], 16);
        Assert.True((firstOctet & 0x02) != 0, "locally administered bit set");
        Assert.True((firstOctet & 0x01) == 0, "unicast");
        Assert.Equal(copy.MacAddress, Assert.Single(vmm.Vms).MacAddress);
    }

    [Fact]
    public async Task Should_keep_the_original_mac_when_resumed_without_a_new_identity()
    {
        var vmm = Create("host-01", vmCount: 1);
        var original = Assert.Single(vmm.Vms).MacAddress;
        await vmm.PauseAllAsync(CancellationToken.None);

        var resumed = await vmm.ResumeAsync("host-01-vm-1", newIdentity: false, CancellationToken.None);

        Assert.Equal(original, resumed.MacAddress);
        Assert.Matches(MacPattern(), original);
    }

    [Fact]
    public void Should_refuse_to_read_the_image_of_a_running_vm()
    {
        var vmm = Create("host-01", vmCount: 1);

        var error = Assert.Throws<InvalidOperationException>(() => vmm.OpenImage("host-01-vm-1"));
        Assert.Contains("pause", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Should_refuse_to_adopt_the_image_of_another_vm()
    {
        var root = Create("host-01", vmCount: 1, directory: "root");
        var receiver = Create("host-02", vmCount: 0, directory: "receiver");
        var image = Assert.Single(await root.PauseAllAsync(CancellationToken.None));
        var spooled = await CopyToSpoolAsync(root, image.VmId);

        await Assert.ThrowsAsync<InvalidDataException>(
            () => receiver.AdoptAsync("host-01-vm-7", spooled, image.Sha256, CancellationToken.None));
        Assert.Empty(receiver.Vms);
    }

    private SimulatedVmm Create(string vmmId, int vmCount, long imageBytes = ImageBytes, string? directory = null)
    {
        var vmm = new SimulatedVmm(
            vmmId, _directory.Sub(directory ?? vmmId), vmCount, imageBytes, _time, NullLogger<SimulatedVmm>.Instance);
        _vmms.Add(vmm);
        return vmm;
    }

    private async Task<string> CopyToSpoolAsync(SimulatedVmm vmm, string vmId)
    {
        var spool = _directory.Sub("spool");
        Directory.CreateDirectory(spool);
        var path = Path.Combine(spool, vmId + ".part");
        await using (var source = vmm.OpenImage(vmId))
        await using (var target = File.Create(path))
        {
            await source.CopyToAsync(target);
        }

        return path;
    }

    private static async Task<string> Sha256Async(Stream stream)
    {
        await using (stream)
        {
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));
        }
    }

    private static async Task<bool> SameBytesAsync(Stream a, Stream b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        var bufferA = new byte[64 * 1024];
        var bufferB = new byte[64 * 1024];
        int read;
        while ((read = await a.ReadAtLeastAsync(bufferA, bufferA.Length, throwOnEndOfStream: false)) > 0)
        {
            await b.ReadExactlyAsync(bufferB.AsMemory(0, read));
            if (!bufferA.AsSpan(0, read).SequenceEqual(bufferB.AsSpan(0, read)))
            {
                return false;
            }
        }

        return true;
    }

    [GeneratedRegex("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")]
    private static partial Regex MacPattern();
}
