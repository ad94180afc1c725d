import Foundation
import Kernel
import XCTest

/// One attention problem: sizes, masking and its random inputs.
struct AttentionCase {
    var b = 2, t = 5, s = 5, hq = 4, hkv = 2, dh = 8
    var causal = true
    var offset: Int? = nil
    var mask: [Bool]? = nil

    func inputs(_ rng: inout TestRandom) -> (Tensor, Tensor, Tensor) {
        (rng.tensor([b, t, hq, dh]), rng.tensor([b, s, hkv, dh]), rng.tensor([b, s, hkv, dh]))
    }

    /// Naive per-head scores, softmax and weighted sum in Double; heads h uses kv head h / (hq / hkv).
    func reference(_ q: Tensor, _ k: Tensor, _ v: Tensor) -> [Double] {
        let (qa, ka, va) = (q.array, k.array, v.array)
        let off = offset ?? (s - t)
        let scale = 1 / Double(dh).squareRoot()
        var out = [Double](repeating: 0, count: q.count)
        for bi in 0..<b {
            for h in 0..<hq {
                let kvh = h / (hq / hkv)
                for i in 0..<t {
                    var keys: [Int] = []
                    for j in 0..<s where (!causal || j <= off + i) && (mask?[bi * s + j] ?? true) { keys.append(j) }
                    if keys.isEmpty { continue }
                    let scores = keys.map { j -> Double in
                        var dot = 0.0
                        for d in 0..<dh {
                            dot +=
                                Double(qa[((bi * t + i) * hq + h) * dh + d])
                                * Double(ka[((bi * s + j) * hkv + kvh) * dh + d])
                        }
                        return dot * scale
                    }
                    let m = scores.max()!
                    let e = scores.map { Foundation.exp($0 - m) }
                    let total = e.reduce(0, +)
                    for (n, j) in keys.enumerated() {
                        for d in 0..<dh {
                            out[((bi * t + i) * hq + h) * dh + d] +=
                                e[n] / total * Double(va[((bi * s + j) * hkv + kvh) * dh + d])
                        }
                    }
                }
            }
        }
        return out
    }

    func run(_ q: Tensor, _ k: Tensor, _ v: Tensor) -> Tensor {
        attention(q, k, v, causal: causal, queryOffset: offset, keyMask: mask)
    }
}

final class AttentionTests: XCTestCase {
    var cases: [AttentionCase] {
        var padded = AttentionCase(b: 2, t: 4, s: 6, hq: 2, hkv: 1, dh: 8)
        padded.mask = [false, false, false, true, true, true, true, true, true, true, true, false]
        return [
            AttentionCase(),  // GQA 4:2, causal, T == S
            AttentionCase(b: 1, t: 3, s: 7, hq: 2, hkv: 2, dh: 16),  // queries at the end of longer keys
            AttentionCase(b: 2, t: 5, s: 3, hq: 3, hkv: 1, dh: 52, causal: false),  // 32 + 16 + 4 head dims
            AttentionCase(b: 1, t: 6, s: 6, hq: 4, hkv: 1, dh: 48, causal: true, offset: 0),
            AttentionCase(b: 1, t: 37, s: 37, hq: 2, hkv: 2, dh: 32),  // several column blocks
            padded,  // padding, first query sees nothing
        ]
    }

    func testForwardMatchesNaiveReference() {
        var rng = TestRandom(51)
        for (n, c) in cases.enumerated() {
            let (q, k, v) = c.inputs(&rng)
            let y = c.run(q, k, v).array
            let expected = c.reference(q, k, v)
            XCTAssertEqual(y.count, expected.count)
            for i in 0..<y.count {
                XCTAssertEqual(Double(y[i]), expected[i], accuracy: 2e-6, "case \(n) at \(i)")
            }
        }
    }

    func testBackwardMatchesFiniteDifferences() {
        var rng = TestRandom(52)
        for (n, c) in cases.enumerated() {
            let (q, k, v) = c.inputs(&rng)
            let r = GradientCheck.check([q, k, v]) { c.run($0[0], $0[1], $0[2]) }
            XCTAssertTrue(r.passed, "case \(n): \(r)")
        }
    }

    /// Gradients that meet other contributions: key also the value (dK and dV one buffer) and both q and k
    /// used again outside attention, so attention's backward both starts new buffers and adds into old ones.
    func testBackwardIntoSharedAndExistingGradients() {
        var rng = TestRandom(54)
        for causal in [true, false] {
            let q = rng.tensor([2, 9, 2, 20], scale: 0.7)
            let k = rng.tensor([2, 9, 2, 20], scale: 0.7)
            let r = GradientCheck.check([q, k]) { x in
                attention(x[0], x[1], x[1], causal: causal) * x[0] + x[1]
            }
            XCTAssertTrue(r.passed, "causal \(causal): \(r)")
        }
    }

    func testOnlyInputsThatRequireGradGetOne() {
        var rng = TestRandom(53)
        let c = AttentionCase()
        let (q, k, v) = c.inputs(&rng)
        k.requiresGrad = false
        let r = GradientCheck.check([q, k, v]) { c.run($0[0], $0[1], $0[2]) }
        XCTAssertTrue(r.passed, "\(r)")
        c.run(q, k, v).sum().backward()
        XCTAssertNil(k.grad)
        XCTAssertNotNil(q.grad)
        XCTAssertNotNil(v.grad)
    }

    func testResultsDoNotDependOnThreadCount() {
        var rng = TestRandom(54)
        let c = AttentionCase(b: 2, t: 9, s: 9, hq: 4, hkv: 2, dh: 16)
        let (q, k, v) = c.inputs(&rng)
        func run() -> [[Float]] {
            for x in [q, k, v] { x.zeroGrad() }
            let y = c.run(q, k, v)
            y.backward(seed: Tensor(filled: 0.5, shape: y.shape))
            return [y.array, q.grad!.array, k.grad!.array, v.grad!.array]
        }
        assertSameOnOneAndThreeThreads(run)
    }

    func testKVCacheTokenByTokenEqualsFullSequence() {
        var rng = TestRandom(55)
        let (b, t, hq, hkv, dh, layers) = (2, 7, 4, 2, 16, 2)
        let qs = (0..<layers).map { _ in rng.tensor([b, t, hq, dh], requiresGrad: false) }
        let ks = (0..<layers).map { _ in rng.tensor([b, t, hkv, dh], requiresGrad: false) }
        let vs = (0..<layers).map { _ in rng.tensor([b, t, hkv, dh], requiresGrad: false) }
        let full = (0..<layers).map { attention(qs[$0], ks[$0], vs[$0], causal: true).array }

        let cache = KVCache(layers: layers, batchSize: b, capacity: 16, kvHeads: hkv, headDim: dh)
        // A 3-token prompt, then one token at a time.
        var steps = [0..<3]
        for i in 3..<t { steps.append(i..<(i + 1)) }
        Autograd.withNoGrad {
            for step in steps {
                XCTAssertEqual(cache.length, step.lowerBound)
                for layer in 0..<layers {
                    let y = cache.attend(
                        layer: layer, query: tokens(qs[layer], step), newKeys: tokens(ks[layer], step),
                        newValues: tokens(vs[layer], step)
                    ).array
                    let expected = tokens(Tensor(shape: qs[layer].shape, values: full[layer]), step).array
                    for i in 0..<y.count {
                        XCTAssertEqual(y[i], expected[i], accuracy: 1e-5, "layer \(layer) step \(step) at \(i)")
                    }
                }
            }
        }
        XCTAssertEqual(cache.length, t)
    }

    func testKVCacheHonorsLeftPadding() {
        var rng = TestRandom(56)
        let (b, t, hq, hkv, dh) = (2, 5, 2, 1, 8)
        let q = rng.tensor([b, t, hq, dh], requiresGrad: false)
        let k = rng.tensor([b, t, hkv, dh], requiresGrad: false)
        let v = rng.tensor([b, t, hkv, dh], requiresGrad: false)
        let valid = [false, false, true, true, true, true, true, true, true, true]
        let full = attention(q, k, v, causal: true, keyMask: valid).array
        let cache = KVCache(layers: 1, batchSize: b, capacity: 8, kvHeads: hkv, headDim: dh)
        cache.setKeyValidity(Array(valid[0..<3]) + Array(valid[5..<8]), from: 0)
        let prompt = cache.attend(
            layer: 0, query: tokens(q, 0..<3), newKeys: tokens(k, 0..<3), newValues: tokens(v, 0..<3))
        var outputs = [prompt]
        for i in 3..<t {
            outputs.append(
                cache.attend(
                    layer: 0, query: tokens(q, i..<(i + 1)), newKeys: tokens(k, i..<(i + 1)),
                    newValues: tokens(v, i..<(i + 1))))
        }
        for (n, step) in [0..<3, 3..<4, 4..<5].enumerated() {
            let expected = tokens(Tensor(shape: q.shape, values: full), step).array
            let y = outputs[n].array
            for i in 0..<y.count { XCTAssertEqual(y[i], expected[i], accuracy: 1e-5, "step \(step) at \(i)") }
        }
    }

    /// x[:, range] for x of shape [B, T, H, Dh], copied.
    func tokens(_ x: Tensor, _ range: Range<Int>) -> Tensor {
        let (b, t, row) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        var values: [Float] = []
        let a = x.array
        for bi in 0..<b { values += a[(bi * t + range.lowerBound) * row..<(bi * t + range.upperBound) * row] }
        return Tensor(shape: [b, range.count, x.shape[2], x.shape[3]], values: values)
    }
}
