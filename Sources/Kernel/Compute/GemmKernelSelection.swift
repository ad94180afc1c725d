import Dispatch
import Foundation

/// Chooses the microkernel once per process.
///
/// Swift has no `#if` for CPU features, so the code cannot know at compile time whether it was built for
/// AVX-512 (`-target-cpu native` here), AVX2 or baseline SSE2, and the best register block differs
/// between them by 2-3x (a 6 x 64 `SIMD16` block needs 24 zmm registers; on AVX2 it needs 48 ymm and
/// spills). So each candidate is timed on a product shaped like the real ones (`trialShape`), a few
/// milliseconds at most, in this process's arithmetic mode (`GemmArithmetic.active`), and the fastest is
/// kept. All candidates give bitwise identical results within a mode (see `GemmMicrokernel`), so the choice
/// never changes a number, only the speed.
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

    /// The product the kernels are timed on: a slice of a transformer linear layer (96 token rows, 512
    /// outputs, 256 inputs), run through the whole packed path on one thread, so packing, the k blocking and
    /// reading A in place count as they do in real products. (A tiny in-cache tile favours a block that
    /// spills on AVX2: the spills hit L1 there, but cost a third of the speed at real shapes.)
    static let trialShape = (m: 96, n: 512, k: 256)

    /// CPU time the widest kernel runs before the timing starts (see `fastest`).
    static let warmUpNanoseconds: UInt64 = 2_000_000

    /// Times every kernel on `trialShape` (thread CPU time, best of 7 to 15 tries each, interleaved, to shrug off
    /// preemption and other processes) and returns the widest (first in `allCases`) of those within 15% of
    /// the fastest. About 10 milliseconds in all.
    ///
    /// The widest kernel runs alone for `warmUpNanoseconds` first. An Intel core runs its first 512-bit
    /// multiply-adds at a fraction of their speed until it has switched its vector units (and clock) over,
    /// which takes up to a millisecond or so: timed cold, the 6 x 64 block ran at 25-46 GFLOP/s in its first
    /// tries on an Ice Lake Xeon against 170 later, and with only 3 tries (the old rule) 2 of 12 processes
    /// there chose the 6 x 16 block, which runs training at half the speed.
    static func fastest() -> GemmMicrokernel {
        let (m, n, k) = trialShape
        let a = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
        defer {
            a.deallocate()
            b.deallocate()
            c.deallocate()
        }
        for i in 0..<(m * k) { a[i] = Float(i % 7) * 0.25 }
        for i in 0..<(k * n) { b[i] = Float(i % 5) * 0.5 }
        c.initialize(repeating: 0, count: m * n)
        func trial(_ kernel: GemmMicrokernel) {
            Gemm.multiply(
                transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: k,
                beta: 0, c: c, ldc: n, threads: 1, kernel: kernel, path: .packed)
        }
        let warmUpStart = Gemm.threadNanoseconds()
        while Gemm.threadNanoseconds() - warmUpStart < warmUpNanoseconds { trial(allCases[0]) }
        var times = [UInt64](repeating: .max, count: allCases.count)
        // At least 7 rounds, then more until about 8 ms of CPU time are spent (15 rounds at most).
        let begin = Gemm.threadNanoseconds()
        for round in 0..<15 {
            if round >= 7 && Gemm.threadNanoseconds() - begin > 8_000_000 { break }
            for (index, kernel) in allCases.enumerated() {
                let start = Gemm.threadNanoseconds()
                trial(kernel)
                times[index] = min(times[index], Gemm.threadNanoseconds() - start)
            }
        }
        // The widest kernel within 15% of the fastest: timing noise on a busy machine can make a narrower
        // block look a little faster, while a block too wide for the registers spills and is 1.5x+ slower.
        let fastest = times.min()!
        return allCases[times.indices.first { Double(times[$0]) <= 1.15 * Double(fastest) }!]
    }
}

extension Gemm {
    /// The register block and arithmetic `sgemm` uses on this machine and build, e.g. "6x64 SIMD16 FMA" or
    /// "6x8 SIMD4 mul+add" (for reports; see `GemmArithmetic`).
    public static var microkernelName: String {
        GemmMicrokernel.selected.name + (GemmArithmetic.active == .fused ? " FMA" : " mul+add")
    }
}
