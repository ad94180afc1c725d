import Kernel
import XCTest

/// Naive reduction over one axis in Double: [outer, n, inner] -> [outer, inner].
func referenceReduce(_ x: Tensor, axis: Int, _ combine: ([Double]) -> Double) -> [Float] {
    let outer = x.shape[..<axis].reduce(1, *)
    let n = x.shape[axis]
    let inner = x.shape[(axis + 1)...].reduce(1, *)
    var out = [Float]()
    for o in 0..<outer {
        for i in 0..<inner {
            out.append(Float(combine((0..<n).map { Double(x.data[(o * n + $0) * inner + i]) })))
        }
    }
    return out
}

final class ReduceTests: XCTestCase {
    func testSumMeanMaxForwardOnEveryAxis() {
        var rng = TestRandom(31)
        let x = rng.tensor([3, 4, 5])
        for axis in 0..<3 {
            var kept = x.shape
            kept[axis] = 1
            var dropped = x.shape
            dropped.remove(at: axis)
            XCTAssertEqual(x.sum(axis: axis).shape, dropped)
            XCTAssertEqual(x.sum(axis: axis, keepingDimension: true).shape, kept)
            assertClose(
                x.sum(axis: axis).array, referenceReduce(x, axis: axis) { $0.reduce(0, +) }, tolerance: 1e-6,
                "sum axis \(axis)")
            assertClose(
                x.mean(axis: axis, keepingDimension: true).array,
                referenceReduce(x, axis: axis) { $0.reduce(0, +) / Double($0.count) }, tolerance: 1e-6,
                "mean axis \(axis)")
            assertClose(
                x.max(axis: axis).array, referenceReduce(x, axis: axis) { $0.max()! }, tolerance: 0,
                "max axis \(axis)")
        }
        XCTAssertEqual(x.sum(axis: -1).array, x.sum(axis: 2).array)
        XCTAssertEqual(x.mean().item, Float(x.array.reduce(0.0) { $0 + Double($1) } / 60), accuracy: 1e-7)
    }

    func testReductionBackward() {
        var rng = TestRandom(32)
        let x = rng.tensor([3, 4, 5])
        for axis in [0, 1, 2, -1] {
            for keep in [false, true] {
                let s = GradientCheck.check([x]) { $0[0].sum(axis: axis, keepingDimension: keep) }
                XCTAssertTrue(s.passed, "sum axis \(axis): \(s)")
                let m = GradientCheck.check([x]) { $0[0].mean(axis: axis, keepingDimension: keep) }
                XCTAssertTrue(m.passed, "mean axis \(axis): \(m)")
            }
            // Values 0.05 apart, so a step of 0.01 never moves the argmax.
            let distinct = Tensor(
                shape: [3, 4, 5], values: (0..<60).map { Float(($0 * 37) % 60) * 0.05 - 1.5 },
                requiresGrad: true)
            let mx = GradientCheck.check([distinct]) { $0[0].max(axis: axis) }
            XCTAssertTrue(mx.passed, "max axis \(axis): \(mx)")
        }
        let total = GradientCheck.check([x]) { $0[0].mean() }
        XCTAssertTrue(total.passed, "mean(): \(total)")
    }

    func testMeanAlongAxisComposesWithBroadcasting() {
        // A layer-norm-like centering: x - mean(x, last axis, kept), the gradient of which sums to zero per row.
        var rng = TestRandom(33)
        let x = rng.tensor([4, 6])
        let r = GradientCheck.check([x]) { square($0[0] - $0[0].mean(axis: -1, keepingDimension: true)) }
        XCTAssertTrue(r.passed, "\(r)")
    }

    func testLargeReductionIsDeterministicAndAccurate() {
        var rng = TestRandom(34)
        let x = rng.tensor([64, 1024], requiresGrad: false)
        let a = x.sum(axis: 1).array
        let b = x.sum(axis: 1).array
        XCTAssertEqual(a, b)
        assertClose(a, referenceReduce(x, axis: 1) { $0.reduce(0, +) }, tolerance: 1e-6, "rows")
        assertClose(x.sum(axis: 0).array, referenceReduce(x, axis: 0) { $0.reduce(0, +) }, tolerance: 1e-6, "columns")
    }
}
