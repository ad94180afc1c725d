import Kernel
import XCTest

/// The basic ops promise bitwise identical results for any thread count (each output element is written
/// by one thread; sums run in a fixed order). Checked on sizes above the parallel threshold.
final class ThreadCountTests: XCTestCase {
    /// Runs a small training-like graph and returns its output and every input gradient, flattened.
    func run(threads: Int) -> [[Float]] {
        let saved = Parallel.threads
        Parallel.threads = threads
        defer { Parallel.threads = saved }
        var rng = TestRandom(71)
        let x = rng.tensor([256, 8, 64])
        let bias = rng.tensor([64])
        let scale = rng.tensor([256, 8, 1])
        let table = rng.tensor([40, 64])
        var generator = RandomGenerator(seed: 8)
        let ids = (0..<2048).map { _ in Int32(generator.int(below: 40)) }
        let embedded = embedding(table, ids: ids).reshaped([256, 8, 64])
        let h = swiglu(x * scale + bias, embedded)
        let mixed = gelu(h.permuted([1, 0, 2]), approximation: .tanh).indexSelect(axis: 0, indices: [3, 1, 3, 7])
        let y = mixed.sum(axis: 1) - square(mixed.mean(axis: 1))
        y.backward(seed: Tensor(filled: 0.5, shape: y.shape))
        return [y.array, x.grad!.array, bias.grad!.array, scale.grad!.array, table.grad!.array]
    }

    func testOneAndThreeThreadsGiveIdenticalBits() {
        let one = run(threads: 1)
        let three = run(threads: 3)
        for (i, (a, b)) in zip(one, three).enumerated() {
            XCTAssertEqual(a, b, "result \(i) differs between 1 and 3 threads")
        }
    }
}
