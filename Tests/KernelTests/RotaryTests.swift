import Foundation
import Kernel
import XCTest

final class RotaryTests: XCTestCase {
    /// rotate_half RoPE in Double on [B, T, H, Dh], positions per token (count T) or per row (count B * T).
    func referenceRotary(_ x: [Float], shape: [Int], positions: [Int], theta: Double) -> [Double] {
        let (b, t, h, dh) = (shape[0], shape[1], shape[2], shape[3])
        let half = dh / 2
        var out = [Double](repeating: 0, count: x.count)
        for bi in 0..<b {
            for ti in 0..<t {
                let p = Double(positions.count == t ? positions[ti] : positions[bi * t + ti])
                for hi in 0..<h {
                    let base = ((bi * t + ti) * h + hi) * dh
                    for i in 0..<half {
                        let angle = p * Foundation.pow(theta, -2 * Double(i) / Double(dh))
                        let x1 = Double(x[base + i])
                        let x2 = Double(x[base + i + half])
                        out[base + i] = x1 * Foundation.cos(angle) - x2 * Foundation.sin(angle)
                        out[base + i + half] = x2 * Foundation.cos(angle) + x1 * Foundation.sin(angle)
                    }
                }
            }
        }
        return out
    }

    func testReferenceNumbersForHeadDimFour() {
        let x = Tensor(shape: [1, 1, 1, 4], values: [1, 2, 3, 4])
        let y = applyRotary(x, positions: [1], theta: 10000).array
        let (c1, s1, c2, s2) = (cos(1.0), sin(1.0), cos(0.01), sin(0.01))
        let expected = [1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 3 * c1 + 1 * s1, 4 * c2 + 2 * s2]
        for i in 0..<4 { XCTAssertEqual(Double(y[i]), expected[i], accuracy: 1e-6, "element \(i)") }
    }

    func testMatchesReferenceForSharedAndPerRowPositions() {
        var rng = TestRandom(41)
        let shape = [2, 3, 2, 8]
        let x = rng.tensor(shape, requiresGrad: false)
        for positions in [[0, 5, 47], [3, 4, 5, 0, 1, 2]] {
            let y = applyRotary(x, positions: positions, theta: 10000).array
            let expected = referenceRotary(x.array, shape: shape, positions: positions, theta: 10000)
            for i in 0..<y.count {
                XCTAssertEqual(Double(y[i]), expected[i], accuracy: 2e-5, "positions \(positions) at \(i)")
            }
        }
    }

    func testLongPositionsGrowTheCachedTable() {
        var rng = TestRandom(42)
        let x = rng.tensor([1, 2, 1, 6], requiresGrad: false)
        let positions = [3, 1000]
        let y = applyRotary(x, positions: positions, theta: 1_000_000).array
        let expected = referenceRotary(x.array, shape: [1, 2, 1, 6], positions: positions, theta: 1_000_000)
        // HF forms the angle in float32: at position 1000 that is worth about 1e-4 radians.
        for i in 0..<y.count { XCTAssertEqual(Double(y[i]), expected[i], accuracy: 3e-4, "at \(i)") }
    }

    func testBackwardIsTheInverseRotation() {
        var rng = TestRandom(43)
        let x = rng.tensor([2, 3, 2, 6])
        let r = GradientCheck.check([x]) { applyRotary($0[0], positions: [2, 9, 30], theta: 10000) }
        XCTAssertTrue(r.passed, "\(r)")
        let perRow = GradientCheck.check([x]) { applyRotary($0[0], positions: [0, 1, 2, 7, 8, 9], theta: 500) }
        XCTAssertTrue(perRow.passed, "per-row positions: \(perRow)")
    }
}
