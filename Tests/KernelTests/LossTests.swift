import Foundation
import Kernel
import XCTest

final class LossTests: XCTestCase {
    /// log-softmax of one row in Double.
    func referenceLogSoftmax(_ row: [Float], temperature: Double = 1) -> [Double] {
        let z = row.map { Double($0) / temperature }
        let m = z.max()!
        let lse = m + Foundation.log(z.map { Foundation.exp($0 - m) }.reduce(0, +))
        return z.map { $0 - lse }
    }

    func testCrossEntropyMatchesReference() {
        var rng = TestRandom(61)
        let (n, v) = (6, 37)
        let logits = rng.tensor([n, v], scale: 4, requiresGrad: false)
        let targets: [Int32] = [3, -100, 0, 36, -100, 12]
        let loss = crossEntropy(logits, targets: targets).item
        var total = 0.0
        var count = 0
        for r in 0..<n where targets[r] != -100 {
            total -= referenceLogSoftmax(Array(logits.array[r * v..<(r + 1) * v]))[Int(targets[r])]
            count += 1
        }
        XCTAssertEqual(Double(loss), total / Double(count), accuracy: 1e-5)
    }

    func testCrossEntropyBackwardWithIgnoredTargets() {
        var rng = TestRandom(62)
        let logits = rng.tensor([2, 3, 21], scale: 2)
        let targets: [Int32] = [3, -1, 0, 20, 7, -1]
        let r = GradientCheck.check([logits]) { crossEntropy($0[0], targets: targets, ignoreIndex: -1) }
        XCTAssertTrue(r.passed, "\(r)")
        crossEntropy(logits, targets: targets.map { $0 == -1 ? -100 : $0 }).backward()
        // Ignored rows get exactly zero gradient.
        let g = logits.grad!.array
        XCTAssertTrue(g[21..<42].allSatisfy { $0 == 0 })
    }

    func testCrossEntropyWithEveryTargetIgnoredIsZero() {
        var rng = TestRandom(63)
        let logits = rng.tensor([3, 5])
        let loss = crossEntropy(logits, targets: [-100, -100, -100])
        XCTAssertEqual(loss.item, 0)
        loss.backward()
        XCTAssertTrue((logits.grad?.array ?? []).allSatisfy { $0 == 0 })
    }

    func testWeightedCrossEntropyMatchesReferenceAndItsGradient() {
        var rng = TestRandom(65)
        let (n, v) = (6, 19)
        let logits = rng.tensor([n, v], scale: 3)
        let targets: [Int32] = [3, -100, 0, 18, 7, 12]
        let weights: [Float] = [0.5, 9, 0.25, 0.25, 0, 1.5]  // the ignored row's weight must not count
        let loss = crossEntropy(logits, targets: targets, rowWeights: weights).item
        var total = 0.0
        var weightSum = 0.0
        for r in 0..<n where targets[r] != -100 {
            total -= Double(weights[r]) * referenceLogSoftmax(Array(logits.array[r * v..<(r + 1) * v]))[Int(targets[r])]
            weightSum += Double(weights[r])
        }
        XCTAssertEqual(Double(loss), total / weightSum, accuracy: 1e-5)
        let check = GradientCheck.check([logits]) { crossEntropy($0[0], targets: targets, rowWeights: weights) }
        XCTAssertTrue(check.passed, "\(check)")
    }

    func testUnitRowWeightsGiveTheUnweightedLossAndGradientBitForBit() {
        var rng = TestRandom(66)
        let a = rng.tensor([5, 23], scale: 3)
        let b = Tensor(shape: a.shape, values: a.array, requiresGrad: true)
        let targets: [Int32] = [1, -100, 22, 4, 0]
        let plain = crossEntropy(a, targets: targets)
        let weighted = crossEntropy(b, targets: targets, rowWeights: [1, 1, 1, 1, 1])
        XCTAssertEqual(plain.item.bitPattern, weighted.item.bitPattern)
        plain.backward()
        weighted.backward()
        XCTAssertEqual(a.grad!.array.map(\.bitPattern), b.grad!.array.map(\.bitPattern))
    }

    func testKLDivergenceMatchesReference() {
        var rng = TestRandom(64)
        let (n, v, temperature) = (5, 40, 2.0)
        let student = rng.tensor([n, v], scale: 3, requiresGrad: false)
        let teacher = rng.tensor([n, v], scale: 3, requiresGrad: false)
        let mask = [true, false, true, true, false]
        let loss = klDivergence(student: student, teacher: teacher, temperature: Float(temperature), mask: mask).item
        var total = 0.0
        for r in 0..<n where mask[r] {
            let ls = referenceLogSoftmax(Array(student.array[r * v..<(r + 1) * v]), temperature: temperature)
            let lt = referenceLogSoftmax(Array(teacher.array[r * v..<(r + 1) * v]), temperature: temperature)
            for j in 0..<v { total += Foundation.exp(lt[j]) * (lt[j] - ls[j]) }
        }
        XCTAssertEqual(Double(loss), total / 3, accuracy: 1e-6)
        let byTargets = klDivergence(
            student: student, teacher: teacher, temperature: Float(temperature),
            targets: [1, -100, 2, 3, -100]
        ).item
        XCTAssertEqual(byTargets, loss)
    }

    func testKLDivergenceOfIdenticalLogitsIsZeroWithZeroGradient() {
        var rng = TestRandom(65)
        let student = rng.tensor([4, 33], scale: 5)
        let teacher = student.detached()
        let loss = klDivergence(student: student, teacher: teacher, temperature: 2)
        XCTAssertEqual(loss.item, 0)
        loss.backward()
        XCTAssertTrue(student.grad!.array.allSatisfy { $0 == 0 })
    }

    func testKLDivergenceBackwardReachesOnlyTheStudent() {
        var rng = TestRandom(66)
        let student = rng.tensor([2, 3, 19], scale: 2)
        let teacher = rng.tensor([2, 3, 19], scale: 2)
        let mask = [true, true, false, true, true, true]
        teacher.requiresGrad = false
        let r = GradientCheck.check([student]) {
            klDivergence(student: $0[0], teacher: teacher, temperature: 2, mask: mask)
        }
        XCTAssertTrue(r.passed, "\(r)")
        teacher.requiresGrad = true
        klDivergence(student: student, teacher: teacher, temperature: 2).backward()
        XCTAssertNil(teacher.grad, "the teacher is a constant")
        XCTAssertNotNil(student.grad)
    }
}
