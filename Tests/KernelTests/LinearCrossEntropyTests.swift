import Foundation
import Kernel
import XCTest

/// `linearCrossEntropy` (the head fused with the loss, chunked over the kept rows) against finite differences
/// and against the unfused `crossEntropy(linear(hidden, weight))`.
final class LinearCrossEntropyTests: XCTestCase {
    func testGradientsMatchFiniteDifferencesAcrossChunksAndIgnoredRows() {
        var rng = TestRandom(71)
        let hidden = rng.tensor([2, 5, 8], scale: 1)
        let weight = rng.tensor([29, 8], scale: 0.5)
        let targets: [Int32] = [3, -100, 0, 28, 7, -100, -100, 11, 5, 2]
        // 3 logit rows per chunk: the 7 kept rows (not consecutive) make 3 chunks.
        let check = GradientCheck.check([hidden, weight]) {
            linearCrossEntropy($0[0], weight: $0[1], targets: targets, chunkElements: 3 * 29)
        }
        XCTAssertTrue(check.passed, "\(check)")
        let weighted = GradientCheck.check([hidden, weight]) {
            linearCrossEntropy(
                $0[0], weight: $0[1], targets: targets,
                rowWeights: [0.5, 3, 1, 0.25, 2, 0, 1, 1, 0.75, 1.5], chunkElements: 2 * 29)
        }
        XCTAssertTrue(weighted.passed, "\(weighted)")
    }

    /// Same loss and hidden gradient bits as the unfused path, weight gradient equal up to rounding, for one
    /// chunk and for several, with ignored rows, when only one input trains and when both do (a frozen weight
    /// of a vocabulary within one block keeps the chunked path and its bits).
    func testMatchesTheUnfusedPath() {
        for (chunkRows, trainsWeight) in [(1000, true), (2, true), (3, false)] {
            var rng = TestRandom(72)
            let (n, d, v) = (9, 16, 53)
            let h1 = rng.tensor([n, d], scale: 1)
            let w1 = rng.tensor([v, d], scale: 0.3, requiresGrad: trainsWeight)
            let h2 = Tensor(shape: h1.shape, values: h1.array, requiresGrad: true)
            let w2 = Tensor(shape: w1.shape, values: w1.array, requiresGrad: trainsWeight)
            let targets: [Int32] = [4, -100, 52, 0, 9, -100, 30, 1, 17]
            let unfused = crossEntropy(linear(h1, w1), targets: targets)
            let fused = linearCrossEntropy(h2, weight: w2, targets: targets, chunkElements: chunkRows * v)
            XCTAssertEqual(unfused.item.bitPattern, fused.item.bitPattern, "chunk rows \(chunkRows)")
            unfused.backward()
            fused.backward()
            XCTAssertEqual(
                h1.grad!.array.map(\.bitPattern), h2.grad!.array.map(\.bitPattern), "chunk rows \(chunkRows)")
            XCTAssertTrue(h2.grad!.array[d..<2 * d].allSatisfy { $0 == 0 }, "an ignored row's gradient is 0")
            if trainsWeight {
                for (a, b) in zip(w1.grad!.array, w2.grad!.array) {
                    XCTAssertEqual(a, b, accuracy: 1e-6 + 1e-5 * abs(a))
                }
            } else {
                XCTAssertNil(w2.grad)
            }
        }
    }

    /// Every row kept: the chunks read the hidden states in place and the gradient buffer is handed over.
    func testEveryRowKeptAndAccumulatingIntoExistingGradients() {
        var rng = TestRandom(73)
        let hidden = rng.tensor([3, 4, 6], scale: 1)
        let weight = rng.tensor([300, 6], scale: 0.4)
        let targets = (0..<12).map { Int32(($0 * 37) % 300) }
        let once = linearCrossEntropy(hidden, weight: weight, targets: targets, chunkElements: 5 * 300)
        once.backward()
        let (g1, w1) = (hidden.grad!.array, weight.grad!.array)
        // A second loss adds into the existing gradients (and does not reuse the first loss's buffers).
        linearCrossEntropy(hidden, weight: weight, targets: targets, chunkElements: 5 * 300).backward()
        for (a, b) in zip(g1, hidden.grad!.array) { XCTAssertEqual(2 * a, b, accuracy: 1e-7) }
        for (a, b) in zip(w1, weight.grad!.array) { XCTAssertEqual(2 * a, b, accuracy: 1e-7) }
        XCTAssertEqual(once.item, crossEntropy(linear(hidden, weight), targets: targets).item, accuracy: 1e-6)
    }

    func testEveryTargetIgnoredGivesZeroAndNoGradient() {
        var rng = TestRandom(74)
        let hidden = rng.tensor([2, 4])
        let weight = rng.tensor([7, 4])
        let loss = linearCrossEntropy(hidden, weight: weight, targets: [-100, -100])
        XCTAssertEqual(loss.item, 0)
        loss.backward()
        XCTAssertTrue((hidden.grad?.array ?? []).allSatisfy { $0 == 0 })
        XCTAssertTrue((weight.grad?.array ?? []).allSatisfy { $0 == 0 })
    }

    func testNoGradientWorkWithoutRecording() {
        var rng = TestRandom(75)
        let hidden = rng.tensor([3, 4])
        let weight = rng.tensor([11, 4])
        let targets: [Int32] = [1, 10, -100]
        let recorded = linearCrossEntropy(hidden, weight: weight, targets: targets).item
        let plain = Autograd.withNoGrad { linearCrossEntropy(hidden, weight: weight, targets: targets) }
        XCTAssertEqual(recorded.bitPattern, plain.item.bitPattern)
        XCTAssertFalse(plain.requiresGrad)
    }

    /// A frozen head wider than one block streams the vocabulary in blocks of 4096 with an online softmax:
    /// a vocabulary of three blocks (the last partial) whose largest logits sit in the last block for some rows
    /// and the first for others, kept rows in chunks of 3, ignored rows and row weights. Against finite
    /// differences and the unfused path, and the same bits for 1, 2 and 3 threads.
    func testFrozenHeadStreamsOverTheVocabulary() {
        var rng = TestRandom(76)
        let (n, d, v) = (10, 8, 9000)
        let hidden = rng.tensor([n, d], scale: 1)
        var values = rng.tensor([v, d], scale: 0.5).array
        for j in 8700..<v { for c in 0..<d { values[j * d + c] *= 4 } }  // rows whose maximum grows late
        for c in 0..<d { values[5 * d + c] = 3 * hidden.array[c] }  // row 0's largest logit in the first block
        let weight = Tensor(shape: [v, d], values: values, requiresGrad: false)
        let targets: [Int32] = [5, 8800, -100, 4095, 4096, 0, -100, 8999, 17, 6000]
        let rowWeights: [Float] = [1, 0.5, 1, 2, 1, 0, 1, 1.5, 1, 0.25]
        func loss(_ h: Tensor) -> Tensor {
            linearCrossEntropy(h, weight: weight, targets: targets, rowWeights: rowWeights, chunkElements: 3 * 4096)
        }
        let check = GradientCheck.check([hidden]) { loss($0[0]) }
        XCTAssertTrue(check.passed, "\(check)")

        let reference = Tensor(shape: hidden.shape, values: hidden.array, requiresGrad: true)
        let unfused = crossEntropy(linear(reference, weight), targets: targets, rowWeights: rowWeights)
        unfused.backward()
        var results: [(Float, [Float])] = []
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for threads in [1, 2, 3] {
            Parallel.threads = threads
            let h = Tensor(shape: hidden.shape, values: hidden.array, requiresGrad: true)
            let fused = loss(h)
            fused.backward()
            results.append((fused.item, h.grad!.array))
        }
        XCTAssertEqual(results[0].0, unfused.item, accuracy: 1e-6 * abs(unfused.item))
        for (a, b) in zip(reference.grad!.array, results[0].1) { XCTAssertEqual(a, b, accuracy: 1e-7 + 1e-5 * abs(a)) }
        XCTAssertTrue(results[0].1[2 * d..<3 * d].allSatisfy { $0 == 0 }, "an ignored row's gradient is 0")
        XCTAssertTrue(results[0].1[5 * d..<6 * d].allSatisfy { $0 == 0 }, "a zero-weight row's gradient is 0")
        for (threads, result) in zip([2, 3], results.dropFirst()) {
            XCTAssertEqual(result.0.bitPattern, results[0].0.bitPattern, "\(threads) threads")
            XCTAssertEqual(result.1.map(\.bitPattern), results[0].1.map(\.bitPattern), "\(threads) threads")
        }
        XCTAssertNil(weight.grad)
    }
}
