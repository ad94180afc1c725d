import Kernel
import XCTest

/// A deterministic source of test values (kept local so these tests depend on nothing but the ops).
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> Float {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Float(state >> 40) / Float(1 << 24) * 2 - 1
    }
    mutating func tensor(_ shape: [Int], scale: Float = 1, requiresGrad: Bool = true) -> Tensor {
        let n = Tensor.elementCount(shape)
        return Tensor(shape: shape, values: (0..<n).map { _ in next() * scale }, requiresGrad: requiresGrad)
    }
}

/// Naive triple loop in Double: the independent reference for GEMM results.
func referenceMatmul(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transA: Bool, transB: Bool) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let av = transA ? a[p * m + i] : a[i * k + p]
                let bv = transB ? b[j * k + p] : b[p * n + j]
                s += Double(av) * Double(bv)
            }
            c[i * n + j] = Float(s)
        }
    }
    return c
}

final class MatMulTests: XCTestCase {
    func testSgemmMatchesReferenceForAllTransposes() {
        var rng = TestRandom(7)
        for (m, n, k) in [(1, 1, 1), (3, 5, 7), (13, 70, 33), (64, 64, 64), (97, 130, 385)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    let a = rng.tensor([m * k], requiresGrad: false).array
                    let b = rng.tensor([k * n], requiresGrad: false).array
                    let expected = referenceMatmul(a, b, m: m, n: n, k: k, transA: transA, transB: transB)
                    var c = [Float](repeating: 0, count: m * n)
                    Gemm.sgemm(
                        transA: transA, transB: transB, m: m, n: n, k: k,
                        a: a, lda: transA ? m : k, b: b, ldb: transB ? k : n, c: &c, ldc: n)
                    for i in 0..<(m * n) {
                        XCTAssertEqual(
                            c[i], expected[i], accuracy: 1e-4 * Float(k).squareRoot() + 1e-5,
                            "m=\(m) n=\(n) k=\(k) tA=\(transA) tB=\(transB) at \(i)")
                    }
                }
            }
        }
    }

    func testMatmulBackwardAllTransposes() {
        var rng = TestRandom(11)
        for transA in [false, true] {
            for transB in [false, true] {
                let a = rng.tensor(transA ? [2, 4, 3] : [2, 3, 4])
                let b = rng.tensor(transB ? [2, 5, 4] : [2, 4, 5])
                let r = GradientCheck.check([a, b]) { matmul($0[0], $0[1], transposeA: transA, transposeB: transB) }
                XCTAssertTrue(r.passed, "tA=\(transA) tB=\(transB): \(r)")
            }
        }
    }

    func testMatmulSharedWeightBackward() {
        var rng = TestRandom(12)
        for transB in [false, true] {
            let a = rng.tensor([3, 2, 4])
            let b = rng.tensor(transB ? [5, 4] : [4, 5])
            let r = GradientCheck.check([a, b]) { matmul($0[0], $0[1], transposeB: transB) }
            XCTAssertTrue(r.passed, "tB=\(transB): \(r)")
        }
    }

    func testLinearBackward() {
        var rng = TestRandom(13)
        let x = rng.tensor([2, 3, 6])
        let w = rng.tensor([4, 6])
        let bias = rng.tensor([4])
        let r = GradientCheck.check([x, w, bias]) { linear($0[0], $0[1], bias: $0[2]) }
        XCTAssertTrue(r.passed, "\(r)")
    }

    func testFrozenWeightGetsNoGradient() {
        var rng = TestRandom(14)
        let x = rng.tensor([4, 6])
        let w = rng.tensor([3, 6], requiresGrad: false)
        linear(x, w).sum().backward()
        XCTAssertNil(w.grad, "a frozen weight must not receive a gradient")
        XCTAssertNotNil(x.grad)
    }

    func testNoGradModeRecordsNothing() {
        var rng = TestRandom(15)
        let x = rng.tensor([2, 3])
        let w = rng.tensor([4, 3])
        let y = Autograd.withNoGrad { linear(x, w) }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue(y.isLeaf)
    }
}
