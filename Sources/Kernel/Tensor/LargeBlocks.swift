import Foundation

/// The memory of large storages (64 MB and up), kept after a storage is freed for the next storage of about
/// the same size.
///
/// A training step allocates and frees the same few large buffers every step: at Qwen2-0.5B widths the
/// gradients of the 151936 x 896 embedding and head (544 MB each) and a chunk of the loss's logits (208 MB).
/// Returned to glibc, a freed block is soon cut up for smaller allocations, the next step's request no longer
/// fits there, and the heap grows into fresh memory that the kernel zeroes on the first write: `perf record`
/// of `bench train --shape qwen2-0.5b --strategy sa-proj --threads 1` put 3% of a step in `clear_page_erms`,
/// under the logits' product. Kept here, the blocks are reused whole: on a Zen 4 VM the `full` step at 2
/// threads went from 7603-8148 to 6209 ms and its peak RSS from 6064 to 5758 MB (`compare_torch.py`).
///
/// A block is reused for a request of at most its size and at least 3/4 of it; at most `cachedBytesLimit`
/// bytes wait here (the least recently freed go back to the allocator first). Thread-safe.
enum LargeBlocks {
    /// Storages of at least this many bytes come from here.
    static let minimumBytes = 64 << 20
    /// The most bytes kept for reuse.
    static let cachedBytesLimit = 3 << 30
    /// Blocks are multiples of this (and aligned to it: huge pages).
    static let granule = 2 << 20

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cached: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []
    nonisolated(unsafe) private static var cachedBytes = 0

    /// The size of the block that holds `bytes`.
    static func blockBytes(for bytes: Int) -> Int { (bytes + granule - 1) / granule * granule }

    /// A block of `blockBytes(for: bytes)` bytes (contents undefined): a kept one when one fits, else new.
    static func take(bytes: Int) -> UnsafeMutableRawPointer {
        let wanted = blockBytes(for: bytes)
        lock.lock()
        var best: Int?
        for (i, block) in cached.enumerated()
        where block.bytes >= wanted && block.bytes * 3 <= wanted * 4
            && best.map({ cached[$0].bytes > block.bytes }) ?? true
        {
            best = i
        }
        if let best {
            let block = cached.remove(at: best)
            cachedBytes -= block.bytes
            lock.unlock()
            return block.pointer
        }
        lock.unlock()
        let raw = UnsafeMutableRawPointer.allocate(byteCount: wanted, alignment: granule)
        Storage.adviseHugePages(raw, bytes: wanted)
        return raw
    }

    /// Keeps a block from `take(bytes:)` for reuse, or frees it.
    static func give(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        let size = blockBytes(for: bytes)
        var freed: [UnsafeMutableRawPointer] = []
        lock.lock()
        cached.append((pointer, size))
        cachedBytes += size
        while cachedBytes > cachedBytesLimit, !cached.isEmpty {
            let oldest = cached.removeFirst()
            cachedBytes -= oldest.bytes
            freed.append(oldest.pointer)
        }
        lock.unlock()
        for p in freed { p.deallocate() }
    }

    /// Frees every kept block.
    static func releaseAll() {
        lock.lock()
        let blocks = cached
        cached = []
        cachedBytes = 0
        lock.unlock()
        for block in blocks { block.pointer.deallocate() }
    }

    /// Bytes waiting for reuse (for tests and reports).
    static var keptBytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return cachedBytes
    }
}
