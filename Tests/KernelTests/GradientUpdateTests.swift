import Kernel
import XCTest

/// Backward passes write a gradient that does not exist yet and add into one that does
/// (`Tensor.gradStorageForUpdate`), and a reshape hands its gradient buffer to its input
/// (`Autograd.recordView`). These tests exercise both paths: tensors used several times, views used beside
/// their source, and gradients accumulated over two backward passes, against finite differences.
final class GradientUpdateTests: XCTestCase {
    func testTensorsUsedSeveralTimesAccumulateEveryUse() {
        var rng = TestRandom(41)
        let x = rng.tensor([2, 3, 8])
        let w1 = rng.tensor([6, 8])
        let w2 = rng.tensor([6, 8])
        let weight = rng.tensor([8], scale: 0.5)
        let result = GradientCheck.check([x, w1, w2, weight]) { t in
            let (x, w1, w2, weight) = (t[0], t[1], t[2], t[3])
            let n = rmsNorm(x, weight: weight)
            let gate = linear(n, w1)
            let up = linear(n, w2)
            let again = linear(x, w1)  // x, n and w1 used twice
            let h = swiglu(gate, up) + again * gate  // gate used twice
            let q = applyRotary(h.reshaped([6, 6]).reshaped([2, 3, 1, 6]) * 1, positions: [0, 1, 2], theta: 100)
            return sigmoid(q.reshaped([6, 6])) + matmul(h.reshaped([6, 6]), w2).sum() * 0.1
        }
        XCTAssertTrue(result.passed, "\(result)")
    }

    func testReshapeBesideItsSourceAndChainsOfViews() {
        var rng = TestRandom(42)
        let x = rng.tensor([4, 6])
        let result = GradientCheck.check([x]) { t in
            let x = t[0]
            let view = x.reshaped([2, 12]).reshaped([24]).reshaped([4, 6])  // a chain of views
            return view * view + x * 3 + tanh(x.reshaped([6, 4])).reshaped([4, 6])
        }
        XCTAssertTrue(result.passed, "\(result)")
    }

    func testSecondBackwardAddsToExistingGradients() {
        var rng = TestRandom(43)
        let x = rng.tensor([3, 4])
        let w = rng.tensor([2, 4])
        func loss() -> Tensor { (silu(linear(x, w)).reshaped([6]) * 2).sum() }
        loss().backward()
        let once = (x.grad!.array, w.grad!.array)
        loss().backward()
        for (a, b) in zip(x.grad!.array, once.0) { XCTAssertEqual(a, 2 * b, accuracy: 1e-5 * max(1, abs(b))) }
        for (a, b) in zip(w.grad!.array, once.1) { XCTAssertEqual(a, 2 * b, accuracy: 1e-5 * max(1, abs(b))) }
    }

    func testBroadcastOperandGradientIsSummedNotOverwritten() {
        var rng = TestRandom(44)
        let x = rng.tensor([3, 5])
        let bias = rng.tensor([5])
        let scale = rng.tensor([1])
        let result = GradientCheck.check([x, bias, scale]) { t in (t[0] + t[1]) * t[2] - t[1] }
        XCTAssertTrue(result.passed, "\(result)")
    }

    func testUninitializedStorageHasTheRequestedSize() {
        let t = Tensor(uninitialized: [3, 7])
        XCTAssertEqual(t.count, 21)
        XCTAssertEqual(t.storage.count, 21)
        let (pointer, accumulate) = t.gradStorageForUpdate()
        XCTAssertFalse(accumulate)
        XCTAssertEqual(pointer, t.grad!.data)
        XCTAssertTrue(t.gradStorageForUpdate().accumulate)
    }
}
