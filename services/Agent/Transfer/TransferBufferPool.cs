using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace Treecast.Agent.Transfer;

/// <summary>
/// The transfer server's Kestrel buffers in blocks of 64 KiB instead of Kestrel's own 4 KiB. Kestrel reads a socket
/// into the free space of one block at a time, so with 4 KiB blocks a relay at 100 Mbit/s took its parent's chunks in
/// reads of 4 KiB (5,800 receive calls a second, strace), and every read went on through TLS and HTTP/2 as a hand-off
/// of its own between thread-pool threads. A larger block lets one read take what the network delivered meanwhile.
/// Blocks are arrays on the pinned object heap (pinning one for a socket read never hinders the GC); a pool keeps at
/// most <see cref="MaxFreeBlocks"/> of them for reuse.
/// </summary>
public sealed class TransferBufferPool : MemoryPool<byte>
{
    public const int BlockBytes = 64 * 1024;

    /// <summary>
    /// Blocks kept for reuse at most: one stream's HTTP/2 window and Kestrel's 1 MiB read-ahead of its transport, what a
    /// transfer holds here when the receive falls behind its parent (5 MiB). Kept to 32 (2 MiB), a relay of 1 GiB to two
    /// children allocated 100 MiB of new blocks on the pinned heap, and every 5 MiB of them set off a full collection:
    /// 22 gen-2 collections, a GC heap of 34-36 MiB at its peak; kept to what is in flight, 1 collection and 25 MiB
    /// (bench relay-memory, bench/README.md).
    /// </summary>
    public const int MaxFreeBlocks = (TransferLimits.StreamWindowBytes + (1024 * 1024)) / BlockBytes;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _freeCount;
    private long _rented;

    public override int MaxBufferSize => BlockBytes;

    /// <summary>Blocks handed out so far, reused ones included.</summary>
    public long BlocksRented => Interlocked.Read(ref _rented);

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockBytes);
        Interlocked.Increment(ref _rented);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _freeCount);
            return block;
        }

        return new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
        _free.Clear();
    }

    private void Return(Block block)
    {
        if (Interlocked.Increment(ref _freeCount) <= MaxFreeBlocks)
        {
            _free.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref _freeCount);
        }
    }

    /// <summary>Gives Kestrel's transport (and the TLS and HTTP/2 layers above it) a <see cref="TransferBufferPool"/>.</summary>
    public sealed class Factory : IMemoryPoolFactory<byte>
    {
        private readonly ConcurrentBag<TransferBufferPool> _pools = [];

        /// <summary>Blocks handed out by every pool this factory made.</summary>
        public long BlocksRented => _pools.Sum(p => p.BlocksRented);

        public MemoryPool<byte> Create(MemoryPoolOptions? options = null)
        {
            var pool = new TransferBufferPool();
            _pools.Add(pool);
            return pool;
        }
    }

    private sealed class Block(TransferBufferPool pool) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = GC.AllocateUninitializedArray<byte>(BlockBytes, pinned: true);

        public void Dispose() => pool.Return(this);
    }
}
