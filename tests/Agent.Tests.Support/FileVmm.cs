using System.Collections.Concurrent;
using System.Security.Cryptography;
using Treecast.Agent.Vmm;
using Treecast.Contracts;

namespace Treecast.Agent.Tests.Support;

/// <summary>A minimal file-backed VMM for transfer tests: deterministic images, adoption by moving files.</summary>
public sealed class FileVmm : IVmm
{
    private readonly ConcurrentDictionary<string, VmInfo> _vms = new();
    private readonly ConcurrentDictionary<string, SavingImage> _growing = new();
    private readonly ConcurrentDictionary<string, string> _unresumedCopies = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset?> _workloads = new();
    private readonly string _directory;
    private long _bytesRead;

    public FileVmm(string vmmId, string directory, IEnumerable<(string VmId, long Bytes)>? images = null)
    {
        VmmId = vmmId;
        _directory = directory;
        Directory.CreateDirectory(directory);
        foreach (var (vmId, bytes) in images ?? [])
        {
            var sha = WriteImage(ImagePath(vmId), bytes, vmId.GetHashCode(StringComparison.Ordinal));
            _vms[vmId] = new VmInfo(vmId, VmState.Running, bytes, sha, NewMac(), 0, 0);
        }
    }

    public string VmmId { get; }

    /// <summary>Wraps each image stream the transfer engine opens (a throttle, for instance).</summary>
    public Func<Stream, Stream> WrapImage { get; set; } = s => s;

    /// <summary>Bytes the transfer engine read from this VMM's images.</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    public IReadOnlyList<VmInfo> Vms => _vms.Values.OrderBy(v => v.VmId, StringComparer.Ordinal).ToList();

    public List<string> Adopted { get; } = [];

    public event Action<string>? WorkloadCompleted;

    public string ImagePath(string vmId) => Path.Combine(_directory, $"{vmId}.img");

    public IReadOnlyList<VmImage> Images => Vms.Select(v => new VmImage(v.VmId, v.Bytes, v.Sha256!)).ToList();

    public Task<IReadOnlyList<VmImage>> PauseAllAsync(CancellationToken cancellationToken)
    {
        foreach (var vm in _vms.Values)
        {
            _vms[vm.VmId] = vm with { State = VmState.Paused };
        }

        return Task.FromResult(Images);
    }

    /// <summary>
    /// A paused VM whose image the test writes while the transfer already reads it (as QEMU writes a migration stream):
    /// it is read as it grows and sealed when the test says so.
    /// </summary>
    public SavingImage Grow(string vmId)
    {
        var image = new SavingImage(vmId, ImagePath(vmId) + ".partial", ImagePath(vmId));
        _growing[vmId] = image;
        return image;
    }

    public Stream OpenImage(string vmId) =>
        WrapImage(new CountingStream(
            _growing.TryGetValue(vmId, out var growing) ? growing.OpenRead() : File.OpenRead(ImagePath(vmId)),
            n => Interlocked.Add(ref _bytesRead, n)));

    public Task<VmImage> SealedImageAsync(string vmId, CancellationToken cancellationToken) =>
        _growing.TryGetValue(vmId, out var growing)
            ? growing.Sealed.WaitAsync(cancellationToken)
            : Task.FromResult(Images.Single(i => i.VmId == vmId));

    public Task AdoptAsync(string vmId, string imagePath, string sha256, CancellationToken cancellationToken)
    {
        File.Move(imagePath, ImagePath(vmId), overwrite: true);
        _vms[vmId] = new VmInfo(vmId, VmState.Paused, new FileInfo(ImagePath(vmId)).Length, sha256, NewMac(), 0, 0);
        _unresumedCopies[vmId] = sha256;
        lock (Adopted)
        {
            Adopted.Add(vmId);
        }

        return Task.CompletedTask;
    }

    public Task<VmCopy> ResumeAsync(string vmId, bool newIdentity, CancellationToken cancellationToken)
    {
        var vm = _vms[vmId];
        vm = vm with { State = VmState.Running, MacAddress = newIdentity ? NewMac() : vm.MacAddress };
        _vms[vmId] = vm;
        _unresumedCopies.TryRemove(vmId, out _);
        return Task.FromResult(new VmCopy(vmId, vm.Sha256!, VmState.Running, vm.MacAddress));
    }

    public Task<bool> RecoverAsync(string vmId, string sha256, CancellationToken cancellationToken)
    {
        if (_vms.TryGetValue(vmId, out var held) && held.Sha256 == sha256)
        {
            return Task.FromResult(true);
        }

        if (!File.Exists(ImagePath(vmId)) || Sha256Of(ImagePath(vmId)) != sha256)
        {
            return Task.FromResult(false);
        }

        _vms[vmId] = new VmInfo(vmId, VmState.Paused, new FileInfo(ImagePath(vmId)).Length, sha256, NewMac(), 0, 0);
        _unresumedCopies[vmId] = sha256;
        return Task.FromResult(true);
    }

    public Task<bool> DiscardAsync(string vmId, string sha256, CancellationToken cancellationToken)
    {
        if (!_unresumedCopies.TryGetValue(vmId, out var held) || held != sha256 || !_unresumedCopies.TryRemove(vmId, out _))
        {
            return Task.FromResult(false);
        }

        _vms.TryRemove(vmId, out _);
        File.Delete(ImagePath(vmId));
        return Task.FromResult(true);
    }

    public Task StartWorkloadAsync(string workloadId, TimeSpan work, CancellationToken cancellationToken)
    {
        _workloads[workloadId] = null;
        _ = Task.Delay(work, CancellationToken.None).ContinueWith(
            _ =>
            {
                _workloads[workloadId] = DateTimeOffset.UtcNow;
                WorkloadCompleted?.Invoke(workloadId);
            },
            TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public WorkloadReport ReportWorkload(string workloadId) =>
        !_workloads.TryGetValue(workloadId, out var completedAt) ? WorkloadReport.Unknown
        : completedAt is { } at ? new WorkloadReport(WorkloadStatus.Completed, at)
        : new WorkloadReport(WorkloadStatus.Running, null);

    public async ValueTask DisposeAsync()
    {
        foreach (var growing in _growing.Values)
        {
            await growing.DisposeAsync();
        }
    }

    public static string Sha256Of(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }

    private static string WriteImage(string path, long bytes, int seed)
    {
        var random = new Random(seed);
        var block = new byte[1024 * 1024];
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var file = File.Create(path);
        for (long written = 0; written < bytes; written += block.Length)
        {
            var span = block.AsSpan(0, (int)Math.Min(block.Length, bytes - written));
            random.NextBytes(span);
            file.Write(span);
            sha.AppendData(span);
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static string NewMac() => "52:54:00:" + Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant().Insert(4, ":").Insert(2, ":");
}
