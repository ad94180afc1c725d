/// Entry points into the algorithms behind `Gemm.sgemm`, so that tests can cover every path and every
/// register block whatever this machine and build would choose. Production code calls `Gemm.sgemm`, which
/// picks for itself; these exist because `@testable import` does not work in release test builds.
public enum GemmTesting {
    /// An algorithm of `Gemm.sgemm` to force.
    public enum Path: Sendable, CaseIterable {
        /// Unpacked loops (tiny products).
        case simple
        /// Packed panels and a register-blocked microkernel (the general path).
        case packed
        /// Dot products parallel over columns (a few rows times a transposed B: decoding).
        case smallRows
    }

    /// The microkernels (register blocks), by name, e.g. "14x32 SIMD16"; an index into this list names one.
    public static var microkernelNames: [String] { GemmMicrokernel.allCases.map(\.name) }

    /// The index of the microkernel `Gemm.sgemm` uses on this machine.
    public static var selectedMicrokernel: Int { GemmMicrokernel.allCases.firstIndex(of: .selected)! }

    /// Columns of C one call of microkernel `index` computes (its panel width).
    public static func microkernelWidth(_ index: Int) -> Int { GemmMicrokernel.allCases[index].width }

    /// `Gemm.sgemm` with the algorithm and microkernel forced. Arguments as `Gemm.sgemm`; `.smallRows` needs
    /// `transA == false` and `transB == true`.
    public static func multiply(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int,
        microkernel: Int, path: Path, arithmetic: GemmArithmetic = .active
    ) {
        let kernel = GemmMicrokernel.allCases[microkernel]
        switch path {
        case .simple, .packed:
            Gemm.multiply(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
                ldb: ldb, beta: beta, c: c, ldc: ldc, threads: threads, kernel: kernel,
                arithmetic: arithmetic, path: path == .simple ? .simple : .packed)
        case .smallRows:
            precondition(!transA && transB, "GemmTesting: the small-rows path needs transA false and transB true")
            GemmSmallRows.multiply(
                m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
                c: c, ldc: ldc, threads: threads, arithmetic: arithmetic)
        }
    }

    /// Runs microkernel `index` over C[m, 64] (row stride `ldc`) = alpha * A B + beta * C, A row-major [m, kc]
    /// and B row-major [kc, 64], both packed here for the kernel (its `rows` and `width`), tile by tile (whole
    /// tiles through `run`, edge tiles through `runPartial`): one k block of the packed path.
    public static func runMicrokernel(
        _ index: Int, m: Int, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float,
        arithmetic: GemmArithmetic = .active
    ) {
        let kernel = GemmMicrokernel.allCases[index]
        let mr = kernel.rows
        let panels = (m + mr - 1) / mr
        let packedA = UnsafeMutablePointer<Float>.allocate(capacity: panels * mr * max(kc, 1))
        let packedB = UnsafeMutablePointer<Float>.allocate(capacity: 64 * max(kc, 1))
        defer {
            packedA.deallocate()
            packedB.deallocate()
        }
        GemmPacking.packA(transA: false, a: a, lda: kc, rows: 0..<m, depth: 0..<kc, mr: mr, into: packedA)
        GemmPacking.packB(
            transB: false, b: b, ldb: 64, depth: 0..<kc, columns: 0..<64, width: kernel.width, into: packedB)
        for r in 0..<panels {
            let live = min(mr, m - r * mr)
            for j in stride(from: 0, to: 64, by: kernel.width) {
                let tile = c + r * mr * ldc + j
                if live == mr {
                    kernel.run(
                        kc: kc, a: packedA + r * mr * kc, b: packedB + j * kc, c: tile, ldc: ldc, alpha: alpha,
                        beta: beta, arithmetic: arithmetic)
                } else {
                    kernel.runPartial(
                        kc: kc, a: packedA + r * mr * kc, b: packedB + j * kc, mr: live, nr: kernel.width, c: tile,
                        ldc: ldc, alpha: alpha, beta: beta, arithmetic: arithmetic)
                }
            }
        }
    }
}
