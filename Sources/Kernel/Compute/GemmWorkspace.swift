import Foundation

/// Packing buffers for one running `Gemm.sgemm` worker, reused across calls so that large products do
/// not allocate (and page-fault in) a few megabytes each time.
///
/// Workspaces are handed out by a lock-protected free list: a worker takes one, uses it alone, and gives
/// it back. Any number of `sgemm` calls may run at once (even nested in other parallel loops); the list
/// then simply holds as many workspaces as were ever in use at the same time.
///
/// On Linux the buffers are aligned to 2 MB and marked `MADV_HUGEPAGE`, so that the kernel backs them with
/// huge pages where transparent huge pages are allowed (`madvise` or `always`): the packed B block that is
/// meant to stay in L2 then lies in physically contiguous memory and spreads evenly over the L2 sets, instead
/// of colliding by the chance of 4 KB page placement, and walks no page tables. See `Storage.adviseHugePages`
/// for the measured effect (together with huge pages for large tensors).
final class GemmWorkspace {
    private(set) var packedA: UnsafeMutablePointer<Float>
    private(set) var packedB: UnsafeMutablePointer<Float>
    private var capacityA = 0, capacityB = 0

    private init() {
        packedA = GemmWorkspace.allocate(0)
        packedB = GemmWorkspace.allocate(0)
    }

    deinit {
        GemmWorkspace.free(packedA, capacityA)
        GemmWorkspace.free(packedB, capacityB)
    }

    /// Makes sure the buffers hold at least `a` and `b` floats (contents are not kept when growing).
    func reserve(a: Int, b: Int) {
        if a > capacityA {
            GemmWorkspace.free(packedA, capacityA)
            packedA = GemmWorkspace.allocate(a)
            capacityA = a
        }
        if b > capacityB {
            GemmWorkspace.free(packedB, capacityB)
            packedB = GemmWorkspace.allocate(b)
            capacityB = b
        }
    }

    /// Buffers of at least this many bytes are huge-page aligned and advised (Linux).
    static let hugePageBytes = 2 * 1024 * 1024

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let bytes = max(count, 16) * MemoryLayout<Float>.stride
        #if os(Linux)
            if bytes >= hugePageBytes / 4 {
                let rounded = (bytes + hugePageBytes - 1) / hugePageBytes * hugePageBytes
                let raw = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: hugePageBytes)
                // Advice only: where huge pages are off it fails harmlessly and 4 KB pages are used.
                _ = madvise(raw, rounded, 14)  // MADV_HUGEPAGE
                return raw.bindMemory(to: Float.self, capacity: rounded / MemoryLayout<Float>.stride)
            }
        #endif
        return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(count, 16))
    }

    private static func free(_ pointer: UnsafeMutablePointer<Float>, _ count: Int) {
        UnsafeMutableRawPointer(pointer).deallocate()
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var free: [GemmWorkspace] = []

    /// Runs `body` with a workspace no other thread uses meanwhile.
    static func withWorkspace<R>(_ body: (GemmWorkspace) -> R) -> R {
        lock.lock()
        let workspace = free.popLast() ?? GemmWorkspace()
        lock.unlock()
        defer {
            lock.lock()
            free.append(workspace)
            lock.unlock()
        }
        return body(workspace)
    }
}
