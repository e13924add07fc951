using System.Diagnostics;
using System.Security.Cryptography;
using Treecast.Agent.Tests.Support;
using Treecast.Agent.Vmm.Qemu;
using Treecast.Contracts;
using Xunit.Abstractions;

namespace Treecast.Agent.Tests.Qemu;

[Collection(QemuCollection.Name)]
public sealed class QemuVmmSpecs(QemuFixture qemu, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private readonly List<QemuVmm> _vmms = [];
    private readonly Dictionary<string, string> _workDirectories = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var vmm in _vmms)
        {
            await vmm.DisposeAsync();
        }

        if (qemu.SkipReason is null)
        {
            Assert.Empty(QemuFixture.QemuProcesses(qemu.Marker));
        }
    }

    [SkippableTheory]
    [InlineData(16)]
    [InlineData(32)]
    public async Task Should_resume_every_copy_from_the_roots_paused_count_and_reach_the_target(int memoryMiB)
    {
        Skip.If(qemu.SkipReason is not null, qemu.SkipReason);
        var root = Create("host-01", vmCount: 2, memoryMiB);
        await root.Ready.WaitAsync(Generous);
        await root.StartWorkloadAsync("workload-1", TimeSpan.FromSeconds(4), CancellationToken.None);
        await Poll.UntilAsync(() => root.Vms.All(v => v.WorkloadProgress >= 30), "both root guests count", Generous);

        var watch = Stopwatch.StartNew();
        var images = await PauseAndSealAsync(root);
        output.WriteLine($"{memoryMiB} MiB guest: paused and saved {images.Count} VMs in {watch.ElapsedMilliseconds} ms: {string.Join(", ", images.Select(i => $"{i.VmId} {i.Bytes} bytes"))}");

        var paused = root.Vms.ToDictionary(v => v.VmId);
        Assert.All(paused.Values, v => Assert.Equal(VmState.Paused, v.State));
        Assert.All(paused.Values, v => Assert.InRange(v.WorkloadProgress, 30, v.WorkloadTarget - 1));
        Assert.All(images, i => Assert.Equal(new VmDefinition("qemu", memoryMiB, "pc-i440fx-7.2", qemu.BootImage), i.Definition));
        foreach (var image in images)
        {
            await using var stream = root.OpenImage(image.VmId);
            Assert.Equal(image.Sha256, Convert.ToHexStringLower(await SHA256.HashDataAsync(stream)));
            Assert.Equal(image.Bytes, stream.Length);
        }

        // Paused means the guest no longer counts.
        await Task.Delay(300);
        Assert.All(root.Vms, v => Assert.Equal(paused[v.VmId].WorkloadProgress, v.WorkloadProgress));
        foreach (var vm in root.Vms)
        {
            Assert.Equal(paused[vm.VmId].WorkloadProgress, (await root.ReadCounterAsync(vm.VmId, CancellationToken.None))!.Counter);
        }

        var receiver = Create("rx", vmCount: 0, memoryMiB);
        var completed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.WorkloadCompleted += id => completed.TrySetResult(id);
        foreach (var image in images)
        {
            var received = await ReceiveAsync(root, image, receiver);
            watch.Restart();
            await receiver.AdoptAsync(image.VmId, received, image.Sha256, CancellationToken.None);
            output.WriteLine($"{memoryMiB} MiB guest: {image.VmId} loaded on the receiver in {watch.ElapsedMilliseconds} ms");
        }

        Assert.Equal(images.Select(i => i.VmId).Order(), receiver.Vms.Select(v => v.VmId).Order());
        foreach (var copy in receiver.Vms)
        {
            Assert.Equal(VmState.Paused, copy.State);
            Assert.Equal(paused[copy.VmId].WorkloadProgress, copy.WorkloadProgress);
            Assert.Equal(paused[copy.VmId].WorkloadTarget, copy.WorkloadTarget);
            Assert.Equal(paused[copy.VmId].Sha256, copy.Sha256);
            Assert.Equal(paused[copy.VmId].WorkloadProgress, (await receiver.ReadCounterAsync(copy.VmId, CancellationToken.None))!.Counter);
        }

        var resumed = new List<VmCopy>();
        foreach (var image in images)
        {
            resumed.Add(await receiver.ResumeAsync(image.VmId, newIdentity: true, CancellationToken.None));
        }

        Assert.All(resumed, c => Assert.Equal(VmState.Running, c.State));
        Assert.All(resumed, c => Assert.NotEqual(paused[c.VmId].MacAddress, c.MacAddress));
        Assert.All(resumed, c => Assert.Matches("^02(:[0-9a-f]{2}){5}$", c.MacAddress!));
        await Poll.UntilAsync(() => receiver.Vms.All(v => v.WorkloadProgress > paused[v.VmId].WorkloadProgress), "the copies count on", Generous);
        Assert.Equal("workload-1", await completed.Task.WaitAsync(Generous));
        Assert.All(receiver.Vms, v => Assert.Equal(v.WorkloadTarget, v.WorkloadProgress));
        Assert.All(receiver.Vms, v => Assert.Equal(400, v.WorkloadTarget));
    }

    [SkippableFact]
    public async Task Should_let_the_root_resume_and_complete_after_saving_its_state()
    {
        Skip.If(qemu.SkipReason is not null, qemu.SkipReason);
        var root = Create("host-02", vmCount: 1);
        var completed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        root.WorkloadCompleted += id => completed.TrySetResult(id);
        await root.StartWorkloadAsync("workload-2", TimeSpan.FromSeconds(1), CancellationToken.None);
        var image = Assert.Single(await PauseAndSealAsync(root));
        var again = Assert.Single(await PauseAndSealAsync(root));

        var copy = await root.ResumeAsync(image.VmId, newIdentity: false, CancellationToken.None);

        Assert.Equal(image, again);
        Assert.Equal(root.Vms[0].MacAddress, copy.MacAddress);
        Assert.StartsWith("52:54:00:", copy.MacAddress, StringComparison.Ordinal);
        Assert.Equal("workload-2", await completed.Task.WaitAsync(Generous));
        Assert.Equal(100, root.Vms[0].WorkloadProgress);
        Assert.Equal(WorkloadStatus.Completed, root.ReportWorkload("workload-2").Status);
    }

    [SkippableFact]
    public async Task Should_fail_the_adoption_naming_the_vm_when_the_receiving_qemu_is_killed_mid_stream()
    {
        Skip.If(qemu.SkipReason is not null, qemu.SkipReason);
        var root = Create("host-03", vmCount: 1);
        await root.Ready.WaitAsync(Generous);
        var image = Assert.Single(await PauseAndSealAsync(root));
        var receiver = Create("rx", vmCount: 0);
        var receiverDirectory = qemu.Sub("fifo");
        var pipe = Path.Combine(receiverDirectory, "incoming");
        using (var mkfifo = Process.Start("mkfifo", [pipe]))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        // The image arrives through a pipe, as a stream still being received would: half of it, then the QEMU dies.
        var adoption = Task.Run(() => receiver.AdoptAsync(image.VmId, pipe, image.Sha256, CancellationToken.None));
        byte[] bytes;
        await using (var state = root.OpenImage(image.VmId))
        {
            bytes = new byte[state.Length];
            await state.ReadExactlyAsync(bytes);
        }

        var writer = await Task.Run(() => new FileStream(pipe, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 0)).WaitAsync(Generous);
        await writer.WriteAsync(bytes.AsMemory(0, bytes.Length / 2)).AsTask().WaitAsync(Generous);
        await Poll.UntilAsync(() => IncomingQemus().Count == 1, "the receiving QEMU runs", Generous);
        foreach (var pid in IncomingQemus())
        {
            Process.GetProcessById(pid).Kill();
        }

        await writer.DisposeAsync();
        var error = await Assert.ThrowsAsync<QemuVmException>(() => adoption.WaitAsync(Generous));

        output.WriteLine(error.Message);
        Assert.Equal(image.VmId, error.VmId);
        Assert.Contains($"VM {image.VmId} on rx", error.Message, StringComparison.Ordinal);
        Assert.Contains("did not load", error.Message, StringComparison.Ordinal);
        Assert.Contains("killed by signal 9", error.Message, StringComparison.Ordinal);
        Assert.Empty(receiver.Vms);
        Assert.Empty(IncomingQemus());
    }

    [SkippableFact]
    public async Task Should_take_back_an_adopted_copy_after_a_restart_and_discard_it_when_asked()
    {
        Skip.If(qemu.SkipReason is not null, qemu.SkipReason);
        var root = Create("host-09", vmCount: 1);
        await root.StartWorkloadAsync("workload-9", TimeSpan.FromHours(1), CancellationToken.None);
        await Poll.UntilAsync(() => root.Vms.All(v => v.WorkloadProgress >= 10), "the root guest counts", Generous);
        var image = Assert.Single(await PauseAndSealAsync(root));
        var counted = root.Vms[0].WorkloadProgress;
        Assert.Equal(WorkloadStatus.Running, root.ReportWorkload("workload-9").Status);
        Assert.Equal(WorkloadStatus.Unknown, root.ReportWorkload("workload-elsewhere").Status);
        var before = Create("rx9", vmCount: 0);
        await before.AdoptAsync(image.VmId, await ReceiveAsync(root, image, before), image.Sha256, CancellationToken.None);
        await before.DisposeAsync();

        // The agent restarted: a new VMM on the same directory takes the copy back from the state file it kept.
        var after = Create("rx9", vmCount: 0, workDirectory: _workDirectories["rx9"]);
        Assert.True(await after.RecoverAsync(image.VmId, image.Sha256, CancellationToken.None));

        var copy = Assert.Single(after.Vms);
        Assert.Equal((image.VmId, VmState.Paused, image.Sha256), (copy.VmId, copy.State, copy.Sha256));
        Assert.Equal(counted, (await after.ReadCounterAsync(image.VmId, CancellationToken.None))!.Counter);
        Assert.False(await after.DiscardAsync(image.VmId, new string('0', 64), CancellationToken.None));
        Assert.True(await after.DiscardAsync(image.VmId, image.Sha256, CancellationToken.None));
        Assert.Empty(after.Vms);
        Assert.Empty(IncomingQemus());
        Assert.Single(QemuFixture.QemuProcesses(qemu.Marker));
        Assert.False(await after.RecoverAsync(image.VmId, image.Sha256, CancellationToken.None));
    }

    [SkippableFact]
    public async Task Should_fail_the_adoption_of_a_stream_that_does_not_load_and_leave_no_qemu()
    {
        Skip.If(qemu.SkipReason is not null, qemu.SkipReason);
        var root = Create("host-04", vmCount: 1);
        await root.Ready.WaitAsync(Generous);
        var image = Assert.Single(await PauseAndSealAsync(root));
        var receiver = Create("rx", vmCount: 0);
        var truncated = Path.Combine(qemu.Sub("cut"), "truncated.state");
        await using (var state = root.OpenImage(image.VmId))
        await using (var file = File.Create(truncated))
        {
            var half = new byte[image.Bytes / 2];
            await state.ReadExactlyAsync(half);
            await file.WriteAsync(half);
        }

        var error = await Assert.ThrowsAsync<QemuVmException>(() => receiver.AdoptAsync(image.VmId, truncated, image.Sha256, CancellationToken.None));

        output.WriteLine(error.Message);
        Assert.Contains($"VM {image.VmId} on rx: its state did not load", error.Message, StringComparison.Ordinal);
        Assert.Empty(receiver.Vms);
        Assert.Empty(IncomingQemus());
    }

    [SkippableFact]
    public async Task Should_refuse_a_state_that_is_not_the_announced_image()
    {
        Skip.If(qemu.SkipReason is not null, qemu.SkipReason);
        var root = Create("host-07", vmCount: 1);
        var image = Assert.Single(await PauseAndSealAsync(root));
        var receiver = Create("rx", vmCount: 0);
        var received = await ReceiveAsync(root, image, receiver);

        var error = await Assert.ThrowsAsync<QemuVmException>(() => receiver.AdoptAsync(image.VmId, received, new string('0', 64), CancellationToken.None));

        Assert.Contains($"VM {image.VmId} on rx: the state QEMU loaded has SHA-256 {image.Sha256}", error.Message, StringComparison.Ordinal);
        Assert.Empty(receiver.Vms);
        Assert.Empty(IncomingQemus());
    }

    [SkippableFact]
    public async Task Should_refuse_a_machine_type_qemu_does_not_know_naming_the_vm_and_qemus_reason()
    {
        Skip.If(qemu.SkipReason is not null, qemu.SkipReason);
        var vmm = Create("host-05", vmCount: 2, machineType: "no-such-machine");

        var error = await Assert.ThrowsAsync<QemuVmException>(() => vmm.Ready.WaitAsync(Generous));

        output.WriteLine(error.Message);
        Assert.Matches("^VM host-05-vm-[12] on host-05 could not start: QEMU exited with code 1: .*unsupported machine type.*machine .no-such-machine.", error.Message);
        Assert.All(vmm.Vms, v => Assert.Equal(VmState.Stopped, v.State));
        Assert.Empty(QemuFixture.QemuProcesses(qemu.Marker));
        var pause = await Assert.ThrowsAsync<QemuVmException>(() => vmm.PauseAllAsync(CancellationToken.None));
        Assert.Contains("is stopped", pause.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Should_refuse_a_missing_boot_image_naming_the_vm()
    {
        Skip.If(qemu.SkipReason is not null, qemu.SkipReason);
        var vmm = Create("host-06", vmCount: 1, bootImage: Path.Combine(qemu.Marker, "absent.img"));

        var error = await Assert.ThrowsAsync<QemuVmException>(() => vmm.Ready.WaitAsync(Generous));

        Assert.Equal("host-06-vm-1", error.VmId);
        Assert.Contains("absent.img does not exist", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Should_return_images_without_waiting_for_the_save_and_seal_them_with_the_saved_streams_digest()
    {
        Skip.If(qemu.SkipReason is not null, qemu.SkipReason);
        var root = Create("host-08", vmCount: 2);
        await root.Ready.WaitAsync(Generous);

        var paused = await root.PauseAllAsync(CancellationToken.None);

        // The pause returns once each save has started. A small VM's save can have ended by then on a slow machine,
        // and its image is then sealed; one that is not says so, with no size and no digest yet.
        Assert.Equal(2, paused.Count);
        Assert.All(paused, image =>
        {
            if (!image.IsSealed)
            {
                Assert.Equal(VmImage.UnknownBytes, image.Bytes);
                Assert.Empty(image.Sha256);
            }

            Assert.NotNull(image.Definition);
        });
        Assert.All(root.Vms, v => Assert.Equal(VmState.Paused, v.State));
        foreach (var image in paused)
        {
            // Opened while (possibly) still being written: the reader follows the stream to its end.
            string followed;
            await using (var stream = root.OpenImage(image.VmId))
            {
                followed = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));
            }

            var sealedImage = await root.SealedImageAsync(image.VmId, CancellationToken.None).WaitAsync(Generous);
            output.WriteLine($"{image.VmId}: sealed at {sealedImage.Bytes} bytes, {sealedImage.Sha256}");
            Assert.True(sealedImage.IsSealed);
            if (image.IsSealed)
            {
                Assert.Equal((image.Bytes, image.Sha256), (sealedImage.Bytes, sealedImage.Sha256));
            }

            Assert.Equal(image.Definition, sealedImage.Definition);
            Assert.Equal(sealedImage.Sha256, followed);
            var stateFile = Directory.GetFiles(_workDirectories["host-08"], image.VmId + ".state", SearchOption.AllDirectories).Single();
            Assert.Equal(sealedImage.Bytes, new FileInfo(stateFile).Length);
            Assert.Equal(sealedImage.Sha256, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(stateFile))));
            Assert.Equal(sealedImage.Sha256, root.Vms.Single(v => v.VmId == image.VmId).Sha256);
        }
    }

    /// <summary>Pauses, then waits for the images to be completely saved (sealed), as a receiver's check needs.</summary>
    private static async Task<IReadOnlyList<VmImage>> PauseAndSealAsync(QemuVmm vmm)
    {
        var paused = await vmm.PauseAllAsync(CancellationToken.None);
        return await Task.WhenAll(paused.Select(i => vmm.SealedImageAsync(i.VmId, CancellationToken.None).WaitAsync(Generous)));
    }

    private QemuVmm Create(string vmmId, int vmCount, int memoryMiB = 16, string machineType = "pc", string? bootImage = null, string? workDirectory = null)
    {
        workDirectory ??= qemu.Sub(vmmId);
        _workDirectories[vmmId] = workDirectory;
        var vmm = new QemuVmm(
            vmmId,
            workDirectory,
            vmCount,
            new QemuOptions { MemoryMiB = memoryMiB, MachineType = machineType, BootImage = bootImage ?? qemu.BootImage, PollInterval = TimeSpan.FromMilliseconds(100) },
            TimeProvider.System,
            new TestOutputLogger<QemuVmm>(output, vmmId));
        _vmms.Add(vmm);
        return vmm;
    }

    // What the transfer engine does on a receiver: spool the image into a file of its own, then hand it over.
    private async Task<string> ReceiveAsync(QemuVmm root, VmImage image, QemuVmm receiver)
    {
        var path = Path.Combine(qemu.Sub($"spool-{receiver.VmmId}"), image.VmId + ".part");
        await using var source = root.OpenImage(image.VmId);
        await using var target = File.Create(path);
        await source.CopyToAsync(target);
        return path;
    }

    private List<int> IncomingQemus() =>
        [.. QemuFixture.QemuProcesses(qemu.Marker).Where(pid => File.ReadAllText($"/proc/{pid}/cmdline").Contains("-incoming", StringComparison.Ordinal))];
}
