import Kernel
import XCTest

/// Naive permutation by index arithmetic: out[i_0, ..., i_r] = x[j] where j's axis order[k] index is i_k.
func referencePermute(_ x: Tensor, _ order: [Int]) -> [Float] {
    let outShape = order.map { x.shape[$0] }
    var inStrides = [Int](repeating: 1, count: x.rank)
    for d in stride(from: x.rank - 2, through: 0, by: -1) { inStrides[d] = inStrides[d + 1] * x.shape[d + 1] }
    let count = x.count
    var out = [Float](repeating: 0, count: count)
    for flat in 0..<count {
        var rest = flat
        var source = 0
        for k in stride(from: outShape.count - 1, through: 0, by: -1) {
            source += (rest % outShape[k]) * inStrides[order[k]]
            rest /= outShape[k]
        }
        out[flat] = x.data[source]
    }
    return out
}

final class ShapeTests: XCTestCase {
    func testReshapedSharesStorageAndInfersSize() {
        var rng = TestRandom(41)
        let x = rng.tensor([2, 3, 4])
        let y = x.reshaped([6, -1])
        XCTAssertEqual(y.shape, [6, 4])
        XCTAssertTrue(y.storage === x.storage, "reshaped must be a view, not a copy")
        XCTAssertEqual(x.reshaped([-1]).shape, [24])
        XCTAssertEqual(x.reshaped([4, 1, 6]).shape, [4, 1, 6])
        let r = GradientCheck.check([x]) { $0[0].reshaped([4, -1]) * $0[0].reshaped([4, 6]) }
        XCTAssertTrue(r.passed, "\(r)")
    }

    func testPermutedAndTransposedMatchReference() {
        var rng = TestRandom(42)
        let x = rng.tensor([2, 3, 4, 5])
        for order in [[0, 2, 1, 3], [3, 2, 1, 0], [1, 0, 2, 3], [0, 1, 3, 2], [2, 0, 3, 1], [0, 1, 2, 3]] {
            let y = x.permuted(order)
            XCTAssertEqual(y.shape, order.map { x.shape[$0] })
            XCTAssertEqual(y.array, referencePermute(x, order), "order \(order)")
            let r = GradientCheck.check([x]) { $0[0].permuted(order) }
            XCTAssertTrue(r.passed, "order \(order): \(r)")
        }
        XCTAssertEqual(x.transposed(1, 2).array, referencePermute(x, [0, 2, 1, 3]))
        XCTAssertEqual(x.transposed(-1, -2).array, referencePermute(x, [0, 1, 3, 2]))
        let m = rng.tensor([3, 1, 4])  // a size-1 axis moved: still correct
        XCTAssertEqual(m.permuted([1, 2, 0]).array, referencePermute(m, [1, 2, 0]))
        // Large enough to run in parallel: the attention head split [B, T, H, D] -> [B, H, T, D].
        let big = rng.tensor([2, 64, 4, 96], requiresGrad: false)
        XCTAssertEqual(big.permuted([0, 2, 1, 3]).array, referencePermute(big, [0, 2, 1, 3]))
    }

    func testTiledTransposeForwardAndBackwardAreExact() {
        // Sizes that are not multiples of the 16x16 tile, one small and one above the parallel threshold.
        var rng = TestRandom(48)
        for shape in [[37, 21], [3, 200, 190]] {
            let x = rng.tensor(shape)
            let order = Array((0..<shape.count).reversed())
            let y = x.permuted(order)
            XCTAssertEqual(y.array, referencePermute(x, order), "\(shape)")
            let seed = rng.tensor(y.shape, requiresGrad: false)
            y.backward(seed: seed)
            // The gradient is the seed permuted back: order reversed is its own inverse.
            XCTAssertEqual(x.grad!.array, referencePermute(seed, order), "\(shape) backward")
        }
    }

    func testSliceForwardAndBackward() {
        var rng = TestRandom(43)
        let x = rng.tensor([3, 5, 4])
        let y = x.slice(axis: 1, start: 1, end: 4)
        XCTAssertEqual(y.shape, [3, 3, 4])
        for o in 0..<3 {
            for k in 0..<3 {
                for i in 0..<4 {
                    XCTAssertEqual(y.data[(o * 3 + k) * 4 + i], x.data[(o * 5 + k + 1) * 4 + i])
                }
            }
        }
        for (axis, start, end) in [(0, 1, 3), (1, 1, 4), (2, 0, 1), (-1, 2, 4), (1, 2, 2)] {
            let r = GradientCheck.check([x]) { $0[0].slice(axis: axis, start: start, end: end) }
            XCTAssertTrue(r.passed, "slice axis \(axis) \(start)..<\(end): \(r)")
        }
        // Two overlapping slices of one tensor: both gradients land in it.
        let r = GradientCheck.check([x]) {
            $0[0].slice(axis: 1, start: 0, end: 3) * $0[0].slice(axis: 1, start: 2, end: 5)
        }
        XCTAssertTrue(r.passed, "overlapping slices: \(r)")
    }

    func testConcatForwardAndBackward() {
        var rng = TestRandom(44)
        let a = rng.tensor([2, 3, 4])
        let b = rng.tensor([2, 1, 4])
        let c = rng.tensor([2, 2, 4], requiresGrad: false)
        let y = concat([a, b, c], axis: 1)
        XCTAssertEqual(y.shape, [2, 6, 4])
        XCTAssertEqual(y.slice(axis: 1, start: 0, end: 3).array, a.array)
        XCTAssertEqual(y.slice(axis: 1, start: 3, end: 4).array, b.array)
        XCTAssertEqual(y.slice(axis: 1, start: 4, end: 6).array, c.array)
        let r = GradientCheck.check([a, b, c]) { concat($0, axis: 1) }
        XCTAssertTrue(r.passed, "\(r)")
        XCTAssertEqual(concat([a, a], axis: 0).shape, [4, 3, 4])
        XCTAssertEqual(concat([a, a], axis: -1).shape, [2, 3, 8])
        let r2 = GradientCheck.check([a]) { concat([$0[0], square($0[0])], axis: -1) }
        XCTAssertTrue(r2.passed, "same tensor twice: \(r2)")
        concat([a, c], axis: 1).sum().backward()
        XCTAssertNil(c.grad, "a frozen input of concat gets no gradient")
    }

    func testIndexSelectWithRepeatedIndices() {
        var rng = TestRandom(45)
        let x = rng.tensor([2, 5, 3])
        let indices = [4, 0, 4, 2, 4]
        let y = x.indexSelect(axis: 1, indices: indices)
        XCTAssertEqual(y.shape, [2, 5, 3])
        for o in 0..<2 {
            for (k, index) in indices.enumerated() {
                for i in 0..<3 {
                    XCTAssertEqual(y.data[(o * 5 + k) * 3 + i], x.data[(o * 5 + index) * 3 + i])
                }
            }
        }
        for axis in [0, 1, 2] {
            let r = GradientCheck.check([x]) { $0[0].indexSelect(axis: axis, indices: [1, 0, 1, 1]) }
            XCTAssertTrue(r.passed, "axis \(axis): \(r)")
        }
    }

    func testEmbeddingLookupAndScatterAdd() {
        var rng = TestRandom(46)
        let weight = rng.tensor([6, 4])
        let ids: [Int32] = [3, 1, 3, 5, 3]
        let y = embedding(weight, ids: ids)
        XCTAssertEqual(y.shape, [5, 4])
        for (i, id) in ids.enumerated() {
            XCTAssertEqual(Array(y.array[i * 4..<(i + 1) * 4]), Array(weight.array[Int(id) * 4..<(Int(id) + 1) * 4]))
        }
        let r = GradientCheck.check([weight]) { embedding($0[0], ids: ids) }
        XCTAssertTrue(r.passed, "\(r)")
        // sum loss: row 3 is used three times, row 0 never.
        weight.grad = nil
        embedding(weight, ids: ids).sum().backward()
        let g = weight.grad!.array
        XCTAssertEqual(Array(g[12..<16]), [3, 3, 3, 3])
        XCTAssertEqual(Array(g[0..<4]), [0, 0, 0, 0])
        XCTAssertEqual(Array(g[4..<8]), [1, 1, 1, 1])

        let frozen = rng.tensor([6, 4], requiresGrad: false)
        let x = rng.tensor([5, 4])
        (embedding(frozen, ids: ids) * x).sum().backward()
        XCTAssertNil(frozen.grad, "a frozen table gets no gradient")
        XCTAssertNotNil(x.grad)
    }

    func testLargeEmbeddingBackwardMatchesSerialSum() {
        // Above the parallel threshold: the column split must give the same sums as a plain loop.
        var rng = TestRandom(47)
        let vocabulary = 50
        let width = 96
        let n = 2000
        let weight = rng.tensor([vocabulary, width])
        var generator = RandomGenerator(seed: 3)
        let ids = (0..<n).map { _ in Int32(generator.int(below: vocabulary)) }
        let upstream = rng.tensor([n, width], requiresGrad: false)
        (embedding(weight, ids: ids) * upstream).sum().backward()
        var expected = [Float](repeating: 0, count: vocabulary * width)
        for (i, id) in ids.enumerated() {
            for j in 0..<width { expected[Int(id) * width + j] += upstream.data[i * width + j] }
        }
        XCTAssertEqual(weight.grad!.array, expected)
    }
}
