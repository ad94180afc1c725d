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

    /// Multi-plane RoPE in Double, written from transformers' formulas: M-RoPE picks, for frequency i (of Dh/2),
    /// the plane of the `mrope_section` holding i and inv_freq[i] = theta^(-2i/Dh); axial 2D RoPE builds
    /// `inv_freq = theta^(-2j/(Dh/2))` for j < Dh/4 and concatenates (row freqs, column freqs).
    func referenceMultiPlane(
        _ x: [Float], shape: [Int], planes: [[Int]], theta: Double, layout: RotaryLayout
    ) -> [Double] {
        let (b, t, h, dh) = (shape[0], shape[1], shape[2], shape[3])
        let half = dh / 2
        var out = [Double](repeating: 0, count: x.count)
        for bi in 0..<b {
            for ti in 0..<t {
                let index = planes[0].count == t ? ti : bi * t + ti
                var angles = [Double](repeating: 0, count: half)
                switch layout {
                case .standard:
                    for i in 0..<half {
                        angles[i] = Double(planes[0][index]) * Foundation.pow(theta, -2 * Double(i) / Double(dh))
                    }
                case .sections(let sections):
                    var i = 0
                    for (plane, size) in sections.enumerated() {
                        for _ in 0..<size {
                            angles[i] =
                                Double(planes[plane][index]) * Foundation.pow(theta, -2 * Double(i) / Double(dh))
                            i += 1
                        }
                    }
                case .axial:
                    let quarter = half / 2
                    for j in 0..<quarter {
                        let inv = Foundation.pow(theta, -2 * Double(j) / Double(half))
                        angles[j] = Double(planes[0][index]) * inv
                        angles[quarter + j] = Double(planes[1][index]) * inv
                    }
                }
                for hi in 0..<h {
                    let base = ((bi * t + ti) * h + hi) * dh
                    for i in 0..<half {
                        let x1 = Double(x[base + i])
                        let x2 = Double(x[base + i + half])
                        out[base + i] = x1 * Foundation.cos(angles[i]) - x2 * Foundation.sin(angles[i])
                        out[base + i + half] = x2 * Foundation.cos(angles[i]) + x1 * Foundation.sin(angles[i])
                    }
                }
            }
        }
        return out
    }

    func testMultimodalRotaryTakesEachSectionFromItsPlane() {
        var rng = TestRandom(7)
        let x = rng.tensor([2, 3, 2, 16])
        let planes = [[0, 5, 5, 1, 2, 3], [1, 7, 3, 1, 2, 3], [2, 0, 9, 1, 2, 3]]
        let layout = RotaryLayout.sections([2, 3, 3])
        let y = applyRotary(x, positions: RotaryPositions(planes: planes), theta: 1_000_000, layout: layout).array
        let expected = referenceMultiPlane(x.array, shape: x.shape, planes: planes, theta: 1_000_000, layout: layout)
        for i in 0..<y.count { XCTAssertEqual(Double(y[i]), expected[i], accuracy: 1e-5, "at \(i)") }
    }

    func testMultimodalRotaryOfTextPositionsIsOrdinaryRotary() {
        var rng = TestRandom(8)
        let x = rng.tensor([1, 4, 2, 16])
        let positions = [3, 4, 5, 6]
        let ordinary = applyRotary(x, positions: positions, theta: 10_000).array
        let oneProvidedPlane = applyRotary(
            x, positions: RotaryPositions(positions), theta: 10_000, layout: .sections([2, 3, 3])
        ).array
        let threeEqualPlanes = applyRotary(
            x, positions: RotaryPositions(planes: [positions, positions, positions]), theta: 10_000,
            layout: .sections([2, 3, 3])
        ).array
        XCTAssertEqual(ordinary, oneProvidedPlane)
        XCTAssertEqual(ordinary, threeEqualPlanes)
    }

    func testAxialRotaryMatchesTheVisionFormula() {
        var rng = TestRandom(9)
        let x = rng.tensor([1, 5, 3, 8])
        let planes = [[0, 0, 1, 1, 4], [0, 1, 0, 1, 2]]
        let y = applyRotary(x, positions: RotaryPositions(planes: planes), theta: 10_000, layout: .axial).array
        let expected = referenceMultiPlane(x.array, shape: x.shape, planes: planes, theta: 10_000, layout: .axial)
        for i in 0..<y.count { XCTAssertEqual(Double(y[i]), expected[i], accuracy: 1e-5, "at \(i)") }
    }

    func testMultiPlaneBackwardIsTheInverseRotation() {
        var rng = TestRandom(44)
        let x = rng.tensor([2, 3, 2, 8])
        let planes = [[0, 3, 3, 1, 2, 9], [1, 4, 2, 1, 5, 3], [2, 5, 1, 0, 2, 3]]
        let sections = GradientCheck.check([x]) {
            applyRotary($0[0], positions: RotaryPositions(planes: planes), theta: 100, layout: .sections([1, 1, 2]))
        }
        XCTAssertTrue(sections.passed, "M-RoPE: \(sections)")
        let axial = GradientCheck.check([x]) {
            applyRotary(
                $0[0], positions: RotaryPositions(planes: Array(planes.prefix(2))), theta: 100, layout: .axial)
        }
        XCTAssertTrue(axial.passed, "axial: \(axial)")
    }
}
