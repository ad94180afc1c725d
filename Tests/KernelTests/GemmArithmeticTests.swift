import Kernel
import XCTest

/// The two arithmetic modes of `Gemm` (`GemmArithmetic`): each gives exactly the bits of its documented
/// formula, the same for every microkernel, transpose and thread count, whichever mode this process uses.
final class GemmArithmeticTests: XCTestCase {
    /// C = alpha * sum + beta * C0 with sum = madd(... madd(0, a0, b0) ..., a_k-1, b_k-1), in Float, one
    /// element at a time: the microkernel contract for one k block.
    func scalarReference(
        _ a: [Float], _ b: [Float], _ c0: [Float], m: Int, n: Int, k: Int, alpha: Float, beta: Float,
        arithmetic: GemmArithmetic
    ) -> [Float] {
        var c = c0
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<k {
                    let x = a[i * k + p]
                    let y = b[p * n + j]
                    sum = arithmetic == .fused ? sum.addingProduct(x, y) : sum + x * y
                }
                c[i * n + j] = beta == 0 ? alpha * sum : beta * c0[i * n + j] + alpha * sum
            }
        }
        return c
    }

    /// One k block (k below every kernel's block depth): every kernel, both modes, 1 and 2 threads, equals the
    /// scalar formula bit for bit, and the modes differ (the fused one rounds once per step).
    func testEveryKernelGivesTheFormulaBitsInBothModes() {
        var rng = TestRandom(77)
        let (m, n, k) = (13, 150, 200)
        let a = (0..<(m * k)).map { _ in rng.next() }
        let b = (0..<(k * n)).map { _ in rng.next() }
        let c0 = (0..<(m * n)).map { _ in rng.next() }
        var byMode: [GemmArithmetic: [Float]] = [:]
        for arithmetic in GemmArithmetic.allCases {
            let expected = scalarReference(a, b, c0, m: m, n: n, k: k, alpha: 0.75, beta: 0.5, arithmetic: arithmetic)
            byMode[arithmetic] = expected
            for (kernel, name) in GemmTesting.microkernelNames.enumerated() {
                for threads in [1, 2] {
                    var c = c0
                    GemmTesting.multiply(
                        transA: false, transB: false, m: m, n: n, k: k, alpha: 0.75, a: a, lda: k,
                        b: b, ldb: n, beta: 0.5, c: &c, ldc: n, threads: threads, microkernel: kernel,
                        path: .packed, arithmetic: arithmetic)
                    XCTAssertTrue(c == expected, "\(name) \(arithmetic) \(threads) threads differs from the formula")
                }
            }
        }
        XCTAssertNotEqual(
            byMode[.fused], byMode[.separate], "fused and separate multiply-adds should round differently")
    }

    /// Several k blocks, every transpose, edge tiles: all kernels and thread counts agree bitwise in each mode.
    func testKernelsAgreeBitwiseInEachModeAcrossTransposesAndBlocks() {
        var rng = TestRandom(78)
        for (m, n, k, transA, transB) in [
            (19, 70, 800, false, false), (25, 65, 391, true, false),
            (7, 129, 513, false, true), (31, 33, 385, true, true),
        ] {
            let a = (0..<(m * k)).map { _ in rng.next() }
            let b = (0..<(k * n)).map { _ in rng.next() }
            let c0 = (0..<(m * n)).map { _ in rng.next() }
            let product = referenceMatmul(a, b, m: m, n: n, k: k, transA: transA, transB: transB)
            for arithmetic in GemmArithmetic.allCases {
                var first: [Float]? = nil
                for (kernel, name) in GemmTesting.microkernelNames.enumerated() {
                    for threads in [1, 3] {
                        var c = c0
                        GemmTesting.multiply(
                            transA: transA, transB: transB, m: m, n: n, k: k, alpha: -0.5, a: a,
                            lda: transA ? m : k, b: b, ldb: transB ? k : n, beta: 1, c: &c, ldc: n,
                            threads: threads, microkernel: kernel, path: .packed, arithmetic: arithmetic)
                        let label =
                            "\(name) \(arithmetic) \(threads) threads m=\(m) n=\(n) k=\(k) tA=\(transA) tB=\(transB)"
                        if let first {
                            XCTAssertTrue(c == first, "\(label) differs from the first kernel")
                        } else {
                            first = c
                            let tolerance = 2e-5 * Float(k).squareRoot() + 1e-5
                            let worst = (0..<(m * n)).map { abs(c[$0] - (c0[$0] - 0.5 * product[$0])) }.max()!
                            XCTAssertLessThanOrEqual(worst, tolerance, label)
                        }
                    }
                }
            }
        }
    }

    /// The process's mode is named in reports; FMA peak measurement returns a sane positive rate.
    func testActiveModeIsReportedAndPeakIsPositive() {
        let name = Gemm.microkernelName
        XCTAssertTrue(name.hasSuffix(GemmArithmetic.active == .fused ? " FMA" : " mul+add"), name)
        let peak = Gemm.peakGflops(seconds: 0.001, samples: 1)
        XCTAssertTrue(peak > 0.01 && peak < 1e5, "peak \(peak) GFLOP/s")
    }
}
