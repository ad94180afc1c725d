import Dispatch
import Foundation

/// Chooses the microkernel once per process.
///
/// Swift has no `#if` for CPU features, so the code cannot know at compile time whether it was built for
/// AVX-512 (`-target-cpu native` here), AVX2 or baseline SSE2, and the best register block differs
/// between them by 3-5x (a 6 x 64 `SIMD16` block needs 24 zmm registers; on SSE2 it spills). So each
/// candidate is timed on a small packed problem, a few milliseconds at most, and the fastest is kept.
/// All candidates give bitwise identical results (see `GemmMicrokernel`), so the choice never changes
/// a number, only the speed.
///
/// `SKILLTUNE_GEMM_KERNEL=wide|medium|narrow` forces a kernel (for measurements).
extension GemmMicrokernel {
    static let selected: GemmMicrokernel = {
        if let name = ProcessInfo.processInfo.environment["SKILLTUNE_GEMM_KERNEL"] {
            switch name {
            case "wide": return .wide
            case "medium": return .medium
            case "narrow": return .narrow
            default: break
            }
        }
        return fastest()
    }()

    /// A readable name, e.g. "6x64 SIMD16".
    var name: String {
        switch self {
        case .wide: return "6x64 SIMD16"
        case .medium: return "6x16 SIMD8"
        case .narrow: return "6x8 SIMD4"
        }
    }

    /// Times every kernel on a 6 x 64 x 256 product (the best of several tries, to shrug off
    /// preemption) and returns the fastest.
    static func fastest() -> GemmMicrokernel {
        let kc = 256, columns = 64
        let a = UnsafeMutableRawPointer.allocate(byteCount: rows * kc * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: rows * kc)
        let b = UnsafeMutableRawPointer.allocate(byteCount: columns * kc * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: columns * kc)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: rows * columns)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        for i in 0..<(rows * kc) { a[i] = Float(i % 7) * 0.25 }
        for i in 0..<(columns * kc) { b[i] = Float(i % 5) * 0.5 }

        var best = GemmMicrokernel.narrow, bestTime = UInt64.max
        for kernel in GemmMicrokernel.allCases {
            var fastestTry = UInt64.max
            for _ in 0..<7 {
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<8 {
                    var j = 0
                    while j < columns {  // the same 64 columns, in panels of the kernel's width
                        kernel.run(kc: kc, a: GemmPanelA(start: a, rowStride: 1, stepStride: rows), b: b + j * kc, c: c + j, ldc: columns, alpha: 1, beta: 1)
                        j += kernel.width
                    }
                }
                fastestTry = min(fastestTry, DispatchTime.now().uptimeNanoseconds - start)
            }
            if fastestTry < bestTime { best = kernel; bestTime = fastestTry }
        }
        return best
    }
}

extension Gemm {
    /// The register block `sgemm` uses on this machine and build, e.g. "6x64 SIMD16" (for reports).
    public static var microkernelName: String { GemmMicrokernel.selected.name }
}
