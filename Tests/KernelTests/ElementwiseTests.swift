import Foundation
import Kernel
import XCTest

/// Naive NumPy broadcasting by explicit index arithmetic, in Double: the reference for binary ops.
func referenceBroadcast(_ a: Tensor, _ b: Tensor, _ f: (Double, Double) -> Double) -> (shape: [Int], values: [Float]) {
    let rank = max(a.rank, b.rank)
    let da = [Int](repeating: 1, count: rank - a.rank) + a.shape
    let db = [Int](repeating: 1, count: rank - b.rank) + b.shape
    let shape = (0..<rank).map { max(da[$0], db[$0]) }
    let count = shape.reduce(1, *)
    var values = [Float](repeating: 0, count: count)
    for flat in 0..<count {
        var rest = flat
        var ia = 0
        var ib = 0
        var sa = 1
        var sb = 1
        for d in stride(from: rank - 1, through: 0, by: -1) {
            let i = rest % shape[d]
            rest /= shape[d]
            ia += (da[d] == 1 ? 0 : i) * sa
            ib += (db[d] == 1 ? 0 : i) * sb
            sa *= da[d]
            sb *= db[d]
        }
        values[flat] = Float(f(Double(a.data[ia]), Double(b.data[ib])))
    }
    return (shape, values)
}

func assertClose(
    _ actual: [Float], _ expected: [Float], tolerance: Float, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "count \(message)", file: file, line: line)
    for i in 0..<min(actual.count, expected.count) {
        let scale = max(1, abs(expected[i]))
        if !(abs(actual[i] - expected[i]) <= tolerance * scale) {
            XCTFail("\(message) at \(i): \(actual[i]) vs expected \(expected[i])", file: file, line: line)
            return
        }
    }
}

final class ElementwiseTests: XCTestCase {
    /// Shape pairs covering same shape, trailing broadcast, broadcasting on both sides, scalars.
    let shapePairs: [([Int], [Int])] = [
        ([2, 3, 4], [2, 3, 4]), ([2, 3, 4], [4]), ([4], [2, 3, 4]), ([2, 1, 4], [3, 1]), ([3, 1], [1, 5]),
        ([2, 3, 4], []), ([], [3]), ([2, 3, 1], [2, 1, 4]), ([1], [5]), ([2, 3, 4], [3, 1]),
    ]

    /// Each op with a reference, and whether it needs the right operand away from zero.
    let binaryOps: [(String, (Tensor, Tensor) -> Tensor, (Double, Double) -> Double, Bool)] = [
        ("+", { $0 + $1 }, { $0 + $1 }, false),
        ("-", { $0 - $1 }, { $0 - $1 }, false),
        ("*", { $0 * $1 }, { $0 * $1 }, false),
        ("/", { $0 / $1 }, { $0 / $1 }, true),
    ]

    /// Values in [0.5, 1.5] with a random sign: safe divisors.
    func awayFromZero(_ shape: [Int], _ rng: inout TestRandom) -> Tensor {
        let t = rng.tensor(shape)
        for i in 0..<t.count {
            let v = t.data[i]
            t.data[i] = (v < 0 ? -1 : 1) * (0.5 + abs(v))
        }
        return t
    }

    func testBinaryForwardMatchesNaiveBroadcasting() {
        var rng = TestRandom(21)
        for (sa, sb) in shapePairs {
            for (name, op, reference, safeDivisor) in binaryOps {
                let a = rng.tensor(sa)
                let b = safeDivisor ? awayFromZero(sb, &rng) : rng.tensor(sb)
                let y = op(a, b)
                let expected = referenceBroadcast(a, b, reference)
                XCTAssertEqual(y.shape, expected.shape, "\(sa) \(name) \(sb)")
                assertClose(y.array, expected.values, tolerance: 1e-6, "\(sa) \(name) \(sb)")
            }
        }
    }

    func testBinaryBackwardReducesOverBroadcastDimensions() {
        var rng = TestRandom(22)
        for (sa, sb) in shapePairs {
            for (name, op, _, safeDivisor) in binaryOps {
                let a = rng.tensor(sa)
                let b = safeDivisor ? awayFromZero(sb, &rng) : rng.tensor(sb)
                let r = GradientCheck.check([a, b]) { op($0[0], $0[1]) }
                XCTAssertTrue(r.passed, "\(sa) \(name) \(sb): \(r)")
            }
        }
    }

    func testSameTensorOnBothSides() {
        var rng = TestRandom(23)
        let x = rng.tensor([3, 4])
        let r = GradientCheck.check([x]) { $0[0] * $0[0] - $0[0] }
        XCTAssertTrue(r.passed, "\(r)")
    }

    func testScalarOperandsForwardAndBackward() {
        var rng = TestRandom(24)
        let x = awayFromZero([2, 5], &rng)
        x.requiresGrad = true
        let cases: [(String, (Tensor) -> Tensor, (Double) -> Double)] = [
            ("x+c", { $0 + 1.5 }, { $0 + 1.5 }), ("c+x", { 1.5 + $0 }, { 1.5 + $0 }),
            ("x-c", { $0 - 0.25 }, { $0 - 0.25 }), ("c-x", { 2 - $0 }, { 2 - $0 }),
            ("x*c", { $0 * 3 }, { $0 * 3 }), ("c*x", { -0.5 * $0 }, { -0.5 * $0 }),
            ("x/c", { $0 / 3 }, { $0 / 3 }), ("c/x", { 2 / $0 }, { 2 / $0 }), ("-x", { -$0 }, { -$0 }),
        ]
        for (name, op, reference) in cases {
            assertClose(op(x).array, x.array.map { Float(reference(Double($0))) }, tolerance: 1e-6, name)
            let r = GradientCheck.check([x]) { op($0[0]) }
            XCTAssertTrue(r.passed, "\(name): \(r)")
        }
    }

    func testUnaryMathForwardAndBackward() {
        var rng = TestRandom(25)
        // (name, op, reference, input transform keeping the function well conditioned)
        let cases: [(String, (Tensor) -> Tensor, (Double) -> Double, (Float) -> Float)] = [
            ("exp", { exp($0) }, { Foundation.exp($0) }, { 2 * $0 }),
            ("log", { log($0) }, { Foundation.log($0) }, { 1.25 + 0.75 * $0 }),
            ("sqrt", { sqrt($0) }, { $0.squareRoot() }, { 1.25 + 0.75 * $0 }),
            ("rsqrt", { rsqrt($0) }, { 1 / $0.squareRoot() }, { 1.25 + 0.75 * $0 }),
            ("square", { square($0) }, { $0 * $0 }, { $0 }),
            ("pow3", { pow($0, 3) }, { $0 * $0 * $0 }, { $0 }),
            ("pow1.5", { pow($0, 1.5) }, { Foundation.pow($0, 1.5) }, { 1.25 + 0.75 * $0 }),
            ("pow-1", { pow($0, -1) }, { 1 / $0 }, { 1.25 + 0.75 * $0 }),
            ("abs", { abs($0) }, { Swift.abs($0) }, { ($0 < 0 ? -0.1 : 0.1) + $0 }),
            (
                "clamp", { clamp($0, min: -0.5, max: 0.5) }, { min(max($0, -0.5), 0.5) },
                { v in Swift.abs(Swift.abs(v) - 0.5) < 0.05 ? v * 0.5 : v }
            ),
        ]
        for (name, op, reference, transform) in cases {
            let x = rng.tensor([3, 7])
            for i in 0..<x.count { x.data[i] = transform(x.data[i]) }
            assertClose(op(x).array, x.array.map { Float(reference(Double($0))) }, tolerance: 2e-6, name)
            let r = GradientCheck.check([x]) { op($0[0]) }
            XCTAssertTrue(r.passed, "\(name): \(r)")
        }
    }

    func testFrozenOperandGetsNoGradient() {
        var rng = TestRandom(26)
        let x = rng.tensor([4, 3])
        let bias = rng.tensor([3], requiresGrad: false)
        (x * bias + bias).sum().backward()
        XCTAssertNil(bias.grad)
        XCTAssertNotNil(x.grad)
        let frozen = rng.tensor([4], requiresGrad: false)
        let y = exp(frozen) + frozen
        XCTAssertFalse(y.requiresGrad, "ops on frozen inputs record nothing")
    }

    /// Sizes above the parallel threshold: same-shape and bias-row fast paths, forward and gradients.
    func testLargeTensorsMatchReference() {
        var rng = TestRandom(27)
        let rows = 300
        let width = 256
        let x = rng.tensor([rows, width])
        let y = rng.tensor([rows, width])
        let bias = rng.tensor([width])
        let sum = x * y + bias
        var expected = [Float](repeating: 0, count: rows * width)
        for i in 0..<rows * width {
            expected[i] = Float(Double(x.data[i]) * Double(y.data[i]) + Double(bias.data[i % width]))
        }
        assertClose(sum.array, expected, tolerance: 1e-6, "x * y + bias")
        sum.sum().backward()
        var biasGrad = [Double](repeating: 0, count: width)
        for _ in 0..<rows { for j in 0..<width { biasGrad[j] += 1 } }
        assertClose(bias.grad!.array, biasGrad.map { Float($0) }, tolerance: 1e-6, "bias grad")
        assertClose(x.grad!.array, y.array, tolerance: 0, "x grad")
        assertClose(y.grad!.array, x.array, tolerance: 0, "y grad")
    }

    func testFastMathAgainstLibm() {
        var maxExp = 0.0
        var maxSigmoid = 0.0
        var maxTanh = 0.0
        var maxErf = 0.0
        var x: Float = -30
        while x < 30 {
            let e = Foundation.exp(Double(x))
            maxExp = max(maxExp, Swift.abs(Double(FastMath.exp(x)) - e) / e)
            let s = 1 / (1 + Foundation.exp(-Double(x)))
            maxSigmoid = max(maxSigmoid, Swift.abs(Double(FastMath.sigmoid(x)) - s) / s)
            let t = Foundation.tanh(Double(x))
            maxTanh = max(maxTanh, Swift.abs(Double(FastMath.tanh(x)) - t) / max(Swift.abs(t), 1e-30))
            maxErf = max(maxErf, Swift.abs(Double(FastMath.erf(x)) - Foundation.erf(Double(x))))
            x += 0.00137
        }
        XCTAssertLessThan(maxExp, 1e-6)
        XCTAssertLessThan(maxSigmoid, 1e-6)
        XCTAssertLessThan(maxTanh, 1e-6)
        XCTAssertLessThan(maxErf, 5e-7)
        XCTAssertEqual(FastMath.exp(100), .infinity)
        XCTAssertEqual(FastMath.exp(-100), 0)
        XCTAssertTrue(FastMath.exp(.nan).isNaN)
        XCTAssertEqual(FastMath.tanh(1e-6), 1e-6, accuracy: 1e-12)
        XCTAssertEqual(FastMath.sigmoid(-200), 0)
        XCTAssertEqual(FastMath.sigmoid(200), 1)
    }
}
