#if canImport(Glibc)
    import Glibc
#endif

/// A contiguous, 64-byte aligned buffer of `Float`s, owned by one or more tensors (views share it).
///
/// Kernels read and write it through `pointer`; nothing here is bounds-checked, so callers keep to `count`.
public final class Storage {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    /// Allocates `count` floats, zero-filled.
    public convenience init(count: Int) {
        self.init(uninitializedCount: count)
        pointer.update(repeating: 0, count: max(count, 1))
    }

    /// Allocates `count` floats without setting them: for outputs that a kernel overwrites entirely (the
    /// values are whatever the memory held; reading one before writing it is a bug).
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "Storage count must be non-negative, got \(count)")
        _ = Storage.allocatorTuned
        self.count = count
        let bytes = Storage.byteCount(count)
        let raw: UnsafeMutableRawPointer
        if bytes >= LargeBlocks.minimumBytes {
            raw = LargeBlocks.take(bytes: bytes)
        } else {
            raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            Storage.adviseHugePages(raw, bytes: bytes)
        }
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// The bytes allocated for `count` floats (at least one, so that every storage has an address).
    private static func byteCount(_ count: Int) -> Int { max(count, 1) * MemoryLayout<Float>.stride }

    /// Storages of at least this many bytes ask for huge pages (Linux).
    public static let hugePageAdviceBytes = 4 << 20

    /// Marks the whole 2 MB pages inside a large buffer `MADV_HUGEPAGE`, so that where transparent huge
    /// pages are allowed (`madvise` or `always` mode) the kernel backs them with 2 MB pages. A matrix product
    /// walks the rows of C (and of A and B) in 4 KB steps and touches hundreds of pages per tile row block;
    /// with 4 KB pages those are TLB misses. Measured on an Ice Lake Xeon VM (`skilltune bench kernels`, one
    /// thread, medians of 5 runs interleaved with the binary before this change, which had neither this nor
    /// the huge-page GEMM workspace): 1024^3 111 GFLOP/s against 89, 1024 x 256 x 688 116 against 92, the
    /// other transformer shapes +20-26%. Advice only: it never changes a value, and where it is refused
    /// nothing else changes.
    public static func adviseHugePages(_ raw: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
            guard bytes >= hugePageAdviceBytes else { return }
            let huge = 2 << 20
            let start = (Int(bitPattern: raw) + huge - 1) / huge * huge
            let end = (Int(bitPattern: raw) + bytes) / huge * huge
            let adviseHugePage: Int32 = 14  // MADV_HUGEPAGE
            if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, adviseHugePage) }
        #endif
    }

    /// A training step allocates and frees the same buffers over and over. glibc serves blocks above its mmap
    /// threshold (128 KB at first) with fresh `mmap`s and gives freed heap tops back to the kernel, so every
    /// step page-faults its buffers in again, and the kernel zeroes every page (in a VM that returns freed
    /// memory to its host, slowly). Raising both thresholds to their largest values (`mallopt` takes an
    /// `int`: about 2 GB) keeps freed blocks in the heap for reuse. At Qwen2-0.5B widths the gradients of the
    /// 151936 x 896 embedding and head are 544 MB each: above the 512 MB threshold used before, they were
    /// mapped afresh every step, 2-3 s of a 15.4 s `full` step on a Zen 4 VM (`bench train --shape
    /// qwen2-0.5b --strategy full --threads 1`: 12.8 s now; peak RSS 5563 -> 6062 MB, the heap keeping freed
    /// gradients while the next forward runs). Storages of 64 MB and more now keep their memory in `LargeBlocks`
    /// instead, which the heap cannot cut up. Done once, before the first storage; nothing on macOS.
    private static let allocatorTuned: Bool = {
        #if canImport(Glibc)
            // mallopt is not in Swift's Glibc module (malloc.h); look it up. M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3.
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            if let symbol = dlsym(nil, "mallopt") {
                let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
                _ = mallopt(-3, 2047 << 20)
                _ = mallopt(-1, Int32.max)
            }
        #endif
        return true
    }()

    /// Allocates and copies `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit {
        let bytes = Storage.byteCount(count)
        if bytes >= LargeBlocks.minimumBytes {
            LargeBlocks.give(UnsafeMutableRawPointer(pointer), bytes: bytes)
        } else {
            UnsafeMutableRawPointer(pointer).deallocate()
        }
    }

    /// Sets every element to zero.
    public func zero() { pointer.update(repeating: 0, count: count) }

    /// A new storage holding the same values.
    public func copy() -> Storage {
        let s = Storage(uninitializedCount: count)
        s.pointer.update(from: pointer, count: count)
        return s
    }

    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
