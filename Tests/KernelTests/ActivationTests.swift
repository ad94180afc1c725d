import Foundation
import Kernel
import XCTest

final class ActivationTests: XCTestCase {
    static func sigmoidReference(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
    static func geluErfReference(_ x: Double) -> Double { 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot())) }
    static func geluTanhReference(_ x: Double) -> Double {
        0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
    }

    let activations: [(String, (Tensor) -> Tensor, (Double) -> Double)] = [
        ("relu", { relu($0) }, { max($0, 0) }),
        ("sigmoid", { sigmoid($0) }, { ActivationTests.sigmoidReference($0) }),
        ("tanh", { tanh($0) }, { Foundation.tanh($0) }),
        ("silu", { silu($0) }, { $0 * ActivationTests.sigmoidReference($0) }),
        ("gelu", { gelu($0) }, { ActivationTests.geluErfReference($0) }),
        ("gelu_tanh", { gelu($0, approximation: .tanh) }, { ActivationTests.geluTanhReference($0) }),
    ]

    func testForwardMatchesReferenceOverWideRange() {
        let values: [Float] =
            stride(from: -12.0, through: 12.0, by: 0.0373).map { Float($0) } + [0, -0.0, 1e-6, -1e-6, 40, -40]
        let x = Tensor(shape: [values.count], values: values)
        for (name, op, reference) in activations {
            assertClose(op(x).array, values.map { Float(reference(Double($0))) }, tolerance: 1e-6, name)
        }
    }

    func testGELUMatchesPyTorchNumbers() {
        let x = Tensor(shape: [2], values: [1.0, -0.5])
        let exact = gelu(x).array
        let approximate = gelu(x, approximation: .tanh).array
        XCTAssertEqual(exact[0], 0.8413447, accuracy: 1e-6)
        XCTAssertEqual(exact[1], -0.15426877, accuracy: 1e-6)
        XCTAssertEqual(approximate[0], 0.8411920, accuracy: 1e-6)
        XCTAssertEqual(approximate[1], -0.15428599, accuracy: 1e-6)
    }

    func testBackwardByFiniteDifferences() {
        var rng = TestRandom(51)
        let x = rng.tensor([4, 9], scale: 3)
        // Keep relu's kink out of reach of the finite-difference step.
        for i in 0..<x.count where Swift.abs(x.data[i]) < 0.05 { x.data[i] += 0.1 }
        for (name, op, _) in activations {
            let r = GradientCheck.check([x]) { op($0[0]) }
            XCTAssertTrue(r.passed, "\(name): \(r)")
        }
    }

    /// A tighter check than float finite differences: the gradient against central differences of the
    /// Double reference function (h = 1e-5), so a slightly wrong constant in a derivative shows.
    func testGradientsMatchDoublePrecisionDerivatives() {
        let values: [Float] = stride(from: -8.0, through: 8.0, by: 0.0517).map { Float($0) }
        for (name, op, reference) in activations {
            let x = Tensor(shape: [values.count], values: values, requiresGrad: true)
            op(x).sum().backward()
            let h = 1e-5
            for (i, v) in values.enumerated() where Swift.abs(v) > 1e-3 {
                let numeric = (reference(Double(v) + h) - reference(Double(v) - h)) / (2 * h)
                XCTAssertEqual(Double(x.grad!.data[i]), numeric, accuracy: 2e-6, "\(name) at \(v)")
            }
        }
    }

    func testSwiGLUForwardAndFusedBackward() {
        var rng = TestRandom(52)
        let gate = rng.tensor([3, 8], scale: 3)
        let up = rng.tensor([3, 8], scale: 2)
        let expected = (0..<gate.count).map { i -> Float in
            let g = Double(gate.data[i])
            return Float(g * ActivationTests.sigmoidReference(g) * Double(up.data[i]))
        }
        assertClose(swiglu(gate, up).array, expected, tolerance: 1e-6, "swiglu")
        let r = GradientCheck.check([gate, up]) { swiglu($0[0], $0[1]) }
        XCTAssertTrue(r.passed, "both: \(r)")
        up.requiresGrad = false
        let gateOnly = GradientCheck.check([gate, up]) { swiglu($0[0], $0[1]) }
        XCTAssertTrue(gateOnly.passed, "gate only: \(gateOnly)")
        up.requiresGrad = true
        gate.requiresGrad = false
        let upOnly = GradientCheck.check([gate, up]) { swiglu($0[0], $0[1]) }
        XCTAssertTrue(upOnly.passed, "up only: \(upOnly)")
        swiglu(gate, up).sum().backward()
        XCTAssertNil(gate.grad)
    }

    func testLargeActivationsMatchSmallOnes() {
        // Above the parallel threshold, results must equal the element-by-element values.
        var rng = TestRandom(53)
        let x = rng.tensor([100_000], scale: 4)
        let y = silu(x)
        let head = silu(Tensor(shape: [1000], values: Array(x.array[0..<1000]))).array
        XCTAssertEqual(Array(y.array[0..<1000]), head)
        y.sum().backward()
        for i in stride(from: 0, to: x.count, by: 997) {
            let v = Double(x.data[i])
            let s = ActivationTests.sigmoidReference(v)
            XCTAssertEqual(Double(x.grad!.data[i]), s * (1 + v * (1 - s)), accuracy: 1e-6)
        }
    }
}

final class DropoutTests: XCTestCase {
    func testIdentityWhenNotTrainingOrZeroProbability() {
        var rng = TestRandom(61)
        let x = rng.tensor([10])
        var generator = RandomGenerator(seed: 1)
        XCTAssertTrue(dropout(x, probability: 0.5, generator: &generator, training: false) === x)
        XCTAssertTrue(dropout(x, probability: 0, generator: &generator, training: true) === x)
        var fresh = RandomGenerator(seed: 1)
        XCTAssertEqual(generator.next(), fresh.next(), "no draws when dropout is off")
    }

    func testMaskIsDeterministicScaledAndHasTheRightRate() {
        var rng = TestRandom(62)
        let n = 100_001
        let x = rng.tensor([n], requiresGrad: false)
        for i in 0..<n where x.data[i] == 0 { x.data[i] = 0.5 }
        let p: Float = 0.3
        var g1 = RandomGenerator(seed: 9)
        var g2 = RandomGenerator(seed: 9)
        var g3 = RandomGenerator(seed: 10)
        let a = dropout(x, probability: p, generator: &g1, training: true)
        let b = dropout(x, probability: p, generator: &g2, training: true)
        let c = dropout(x, probability: p, generator: &g3, training: true)
        XCTAssertEqual(a.array, b.array, "same generator state, same mask")
        XCTAssertNotEqual(a.array, c.array)
        XCTAssertEqual(g1.next(), g2.next(), "generators advance identically")
        var dropped = 0
        for i in 0..<n {
            if a.data[i] == 0 { dropped += 1 } else { XCTAssertEqual(a.data[i], x.data[i] / (1 - p), accuracy: 1e-6) }
        }
        XCTAssertEqual(Double(dropped) / Double(n), Double(p), accuracy: 0.01)
        // The next call continues the stream: a different mask.
        let d = dropout(x, probability: p, generator: &g1, training: true)
        XCTAssertNotEqual(a.array, d.array)
    }

    func testBackwardUsesTheSameMask() {
        var rng = TestRandom(63)
        let x = rng.tensor([7, 5])
        let p: Float = 0.4
        var generator = RandomGenerator(seed: 5)
        let y = dropout(x, probability: p, generator: &generator, training: true)
        y.sum().backward()
        for i in 0..<x.count {
            XCTAssertEqual(x.grad!.data[i], y.data[i] == 0 ? 0 : 1 / (1 - p), accuracy: 1e-6)
        }
        // Finite differences through a fixed mask: re-seed inside f so every call draws the same mask.
        let r = GradientCheck.check([x]) { inputs -> Tensor in
            var g = RandomGenerator(seed: 5)
            return dropout(inputs[0], probability: p, generator: &g, training: true)
        }
        XCTAssertTrue(r.passed, "\(r)")
    }

    func testProbabilityOneDropsEverything() {
        var rng = TestRandom(64)
        let x = rng.tensor([9])
        var generator = RandomGenerator(seed: 2)
        let y = dropout(x, probability: 1, generator: &generator, training: true)
        XCTAssertEqual(y.array, [Float](repeating: 0, count: 9))
        y.sum().backward()
        XCTAssertEqual(x.grad!.array, [Float](repeating: 0, count: 9))
    }
}
