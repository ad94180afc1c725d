import Foundation
import Kernel
import XCTest

final class NormalizationTests: XCTestCase {
    /// HF RMSNorm in Double: w * x / sqrt(mean(x^2) + eps).
    func referenceRMSNorm(_ x: [Float], _ w: [Float], eps: Double) -> [Double] {
        let d = w.count
        var out = [Double](repeating: 0, count: x.count)
        for r in 0..<(x.count / d) {
            let row = x[r * d..<(r + 1) * d].map(Double.init)
            let inv = 1 / (row.map { $0 * $0 }.reduce(0, +) / Double(d) + eps).squareRoot()
            for j in 0..<d { out[r * d + j] = row[j] * inv * Double(w[j]) }
        }
        return out
    }

    /// PyTorch LayerNorm in Double, biased variance.
    func referenceLayerNorm(_ x: [Float], _ w: [Float], _ b: [Float]?, eps: Double) -> [Double] {
        let d = w.count
        var out = [Double](repeating: 0, count: x.count)
        for r in 0..<(x.count / d) {
            let row = x[r * d..<(r + 1) * d].map(Double.init)
            let mean = row.reduce(0, +) / Double(d)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d)
            let inv = 1 / (variance + eps).squareRoot()
            for j in 0..<d { out[r * d + j] = (row[j] - mean) * inv * Double(w[j]) + Double(b?[j] ?? 0) }
        }
        return out
    }

    func testRMSNormMatchesReference() {
        var rng = TestRandom(31)
        for d in [1, 8, 37, 256] {
            let x = rng.tensor([2, 3, d], scale: 3, requiresGrad: false)
            let w = rng.tensor([d], requiresGrad: false)
            let y = rmsNorm(x, weight: w, eps: 1e-6).array
            let expected = referenceRMSNorm(x.array, w.array, eps: 1e-6)
            for i in 0..<y.count { XCTAssertEqual(Double(y[i]), expected[i], accuracy: 1e-5, "D=\(d) at \(i)") }
        }
    }

    func testRMSNormBackward() {
        var rng = TestRandom(32)
        for d in [6, 37] {
            let x = rng.tensor([2, 3, d])
            let w = rng.tensor([d])
            let r = GradientCheck.check([x, w]) { rmsNorm($0[0], weight: $0[1], eps: 1e-5) }
            XCTAssertTrue(r.passed, "D=\(d): \(r)")
        }
    }

    func testRMSNormFrozenWeightGetsNoGradient() {
        var rng = TestRandom(33)
        let x = rng.tensor([4, 8])
        let w = rng.tensor([8], requiresGrad: false)
        rmsNorm(x, weight: w).sum().backward()
        XCTAssertNil(w.grad)
        XCTAssertNotNil(x.grad)
    }

    func testLayerNormMatchesReference() {
        var rng = TestRandom(34)
        for d in [1, 8, 37, 256] {
            let x = rng.tensor([5, d], scale: 3, requiresGrad: false)
            let w = rng.tensor([d], requiresGrad: false)
            let b = rng.tensor([d], requiresGrad: false)
            for bias in [b, nil] {
                let y = layerNorm(x, weight: w, bias: bias, eps: 1e-5).array
                let expected = referenceLayerNorm(x.array, w.array, bias?.array, eps: 1e-5)
                for i in 0..<y.count { XCTAssertEqual(Double(y[i]), expected[i], accuracy: 2e-5, "D=\(d) at \(i)") }
            }
        }
    }

    func testLayerNormBackward() {
        var rng = TestRandom(35)
        for d in [6, 37] {
            let x = rng.tensor([2, 3, d])
            let w = rng.tensor([d])
            let b = rng.tensor([d])
            let r = GradientCheck.check([x, w, b]) { layerNorm($0[0], weight: $0[1], bias: $0[2]) }
            XCTAssertTrue(r.passed, "D=\(d): \(r)")
            let noBias = GradientCheck.check([x, w]) { layerNorm($0[0], weight: $0[1], bias: nil) }
            XCTAssertTrue(noBias.passed, "D=\(d) without bias: \(noBias)")
        }
    }

    func testLayerNormFrozenParametersGetNoGradient() {
        var rng = TestRandom(36)
        let x = rng.tensor([4, 8])
        let w = rng.tensor([8], requiresGrad: false)
        let b = rng.tensor([8], requiresGrad: false)
        layerNorm(x, weight: w, bias: b).sum().backward()
        XCTAssertNil(w.grad)
        XCTAssertNil(b.grad)
        XCTAssertNotNil(x.grad)
    }

    func testRMSNormGradientsDoNotDependOnThreadCount() {
        var rng = TestRandom(37)
        let x = rng.tensor([64, 48])
        let w = rng.tensor([48])
        func run() -> [[Float]] {
            x.zeroGrad()
            w.zeroGrad()
            let y = rmsNorm(x, weight: w)
            y.backward(seed: Tensor(filled: 0.25, shape: y.shape))
            return [y.array, x.grad!.array, w.grad!.array]
        }
        assertSameOnOneAndThreeThreads(run)
    }
}
