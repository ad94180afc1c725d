import Foundation

/// Packing buffers for one running `Gemm.sgemm` worker, reused across calls so that large products do
/// not allocate (and page-fault in) a few megabytes each time.
///
/// Workspaces are handed out by a lock-protected free list: a worker takes one, uses it alone, and gives
/// it back. Any number of `sgemm` calls may run at once (even nested in other parallel loops); the list
/// then simply holds as many workspaces as were ever in use at the same time.
final class GemmWorkspace {
    private(set) var packedA: UnsafeMutablePointer<Float>
    private(set) var packedB: UnsafeMutablePointer<Float>
    private var capacityA = 0, capacityB = 0

    private init() {
        packedA = GemmWorkspace.allocate(0)
        packedB = GemmWorkspace.allocate(0)
    }

    deinit {
        UnsafeMutableRawPointer(packedA).deallocate()
        UnsafeMutableRawPointer(packedB).deallocate()
    }

    /// Makes sure the buffers hold at least `a` and `b` floats (contents are not kept when growing).
    func reserve(a: Int, b: Int) {
        if a > capacityA {
            UnsafeMutableRawPointer(packedA).deallocate()
            packedA = GemmWorkspace.allocate(a)
            capacityA = a
        }
        if b > capacityB {
            UnsafeMutableRawPointer(packedB).deallocate()
            packedB = GemmWorkspace.allocate(b)
            capacityB = b
        }
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: max(count, 16) * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(count, 16))
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
