import Kernel
import LwF
import TinyLLaVA
import XCTest

final class LwFTests: XCTestCase {
    func testLossEqualsCrossEntropyWhileStudentIsTeacher() throws {
        let m = try Fixture.model()
        let batch = Fixture.batch(for: m)
        let lwf = try LwF()
        XCTAssertEqual(lwf.temperature, 2)
        XCTAssertEqual(lwf.lambda, 1)
        try lwf.prepare(m, stage: Fixture.stage())
        m.setTraining(true)
        let loss = lwf.loss(m, batch: batch, stage: Fixture.stage()).item
        let ce = answerCrossEntropy(m, batch).item
        XCTAssertEqual(loss, ce, "KL(teacher || student) is exactly 0 at the stage start")
        XCTAssertEqual(m.trainableParameters.count, 6, "the MLP trains by default")
        XCTAssertTrue(lwf.teacher!.trainableParameters.isEmpty, "the teacher is frozen")
    }

    func testDistillationTermMatchesAnIndependentComputation() throws {
        let m = try Fixture.model()
        let batch = Fixture.batch(for: m)
        let lwf = try LwF(options: ["lambda": "0.5", "T": "3"])
        try lwf.prepare(m, stage: Fixture.stage())
        // Move the student away from the teacher.
        var g = RandomGenerator(seed: 5)
        for (_, t) in m.trainableParameters { for i in 0..<t.count { t.data[i] += g.normal() * 0.5 } }
        let loss = Double(lwf.loss(m, batch: batch, stage: Fixture.stage()).item)
        let (student, targets) = Autograd.withNoGrad { () -> ([Float], [Int32]) in
            let out = m.forward(batch)
            return (out.logits.array, out.targets)
        }
        let teacher = Autograd.withNoGrad { lwf.teacher!.forward(batch).logits.array }
        let v = m.vocabularySize
        var ce = 0.0
        var kl = 0.0
        var kept = 0.0
        for (r, target) in targets.enumerated() where target != Batch.ignoreIndex {
            let s = (0..<v).map { Double(student[r * v + $0]) }
            let t = (0..<v).map { Double(teacher[r * v + $0]) }
            func logSoftmax(_ x: [Double], _ temperature: Double) -> [Double] {
                let scaled = x.map { $0 / temperature }
                let top = scaled.max()!
                let lse = top + Foundation.log(scaled.map { Foundation.exp($0 - top) }.reduce(0, +))
                return scaled.map { $0 - lse }
            }
            ce -= logSoftmax(s, 1)[Int(target)]
            let ls = logSoftmax(s, 3)
            let lt = logSoftmax(t, 3)
            kl += (0..<v).map { Foundation.exp(lt[$0]) * (lt[$0] - ls[$0]) }.reduce(0, +)
            kept += 1
        }
        let expected = ce / kept + 0.5 * 9 * kl / kept
        XCTAssertGreaterThan(kl / kept, 1e-4, "the student moved")
        XCTAssertEqual(loss, expected, accuracy: 1e-4 * Swift.max(1, expected))
    }

    func testStageKeepsFrozenBitsAndDropsTheTeacher() throws {
        let m = try Fixture.model()
        let before = m.parameterSnapshot()
        let lwf = try LwF(options: ["trainable": "sa-proj"])
        try Fixture.runStage(m, lwf, steps: 2)
        XCTAssertNil(lwf.teacher)
        let trainable = Set(
            m.namedParameters().map(\.name).filter { $0.contains(".self_attn.") && $0.hasPrefix("model.") })
        assertUnchanged(m, except: trainable, before: before, "lwf")
    }
}
