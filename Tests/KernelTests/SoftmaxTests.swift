import Foundation
import Kernel
import XCTest

/// Softmax of one row in Double, the reference for the Float kernels.
func referenceSoftmax(_ row: [Float]) -> [Double] {
    let m = Double(row.max() ?? 0)
    let e = row.map { Foundation.exp(Double($0) - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

final class SoftmaxTests: XCTestCase {
    func testSoftmaxAndLogSoftmaxMatchDoubleReference() {
        var rng = TestRandom(21)
        for width in [1, 7, 16, 33, 100] {
            for magnitude: Float in [1, 30] {  // 30: exponents far outside Float's range without the shift
                let x = rng.tensor([3, width], scale: magnitude, requiresGrad: false)
                let y = softmax(x).array
                let ly = logSoftmax(x).array
                for r in 0..<3 {
                    let expected = referenceSoftmax(Array(x.array[r * width..<(r + 1) * width]))
                    for j in 0..<width {
                        XCTAssertEqual(
                            Double(y[r * width + j]), expected[j], accuracy: 1e-6 + 2e-6 * expected[j],
                            "softmax width \(width) row \(r) col \(j)")
                        if expected[j] > 1e-30 {
                            XCTAssertEqual(
                                Double(ly[r * width + j]), Foundation.log(expected[j]),
                                accuracy: 2e-5 * max(1, abs(Foundation.log(expected[j]))),
                                "logSoftmax width \(width) row \(r) col \(j)")
                        }
                    }
                }
            }
        }
    }

    func testSoftmaxTreatsMinusInfinityAsZeroProbability() {
        let x = Tensor(shape: [1, 4], values: [1, -.infinity, 2, -.infinity])
        let y = softmax(x).array
        let expected = referenceSoftmax([1, 2])
        XCTAssertEqual(y[1], 0)
        XCTAssertEqual(y[3], 0)
        XCTAssertEqual(Double(y[0]), expected[0], accuracy: 1e-6)
        XCTAssertEqual(Double(y[2]), expected[1], accuracy: 1e-6)
    }

    func testSoftmaxBackward() {
        var rng = TestRandom(22)
        for width in [5, 37] {
            let x = rng.tensor([2, 3, width], scale: 2)
            let r = GradientCheck.check([x], step: 1e-2) { softmax($0[0]) }
            XCTAssertTrue(r.passed, "width \(width): \(r)")
        }
    }

    func testLogSoftmaxBackward() {
        var rng = TestRandom(23)
        for width in [5, 37] {
            let x = rng.tensor([2, 3, width], scale: 2)
            let r = GradientCheck.check([x], step: 1e-2) { logSoftmax($0[0]) }
            XCTAssertTrue(r.passed, "width \(width): \(r)")
        }
    }
}
