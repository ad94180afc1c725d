import Foundation
import Kernel
import XCTest

final class ContinualMetricsTests: XCTestCase {
    typealias Target = ContinualMetrics.Target

    /// Three stages, one target per stage, two held-out benchmarks.
    ///
    ///          A    B    C    H1   H2
    ///   R0:   10   20   30   50   60     base
    ///   R1:   40   22   30   44   58     tuned on A (stage 1)
    ///   R2:   35   50   31   46   60     tuned on B (stage 2)
    ///   R3:   30   45   70   40   54     tuned on C (stage 3)
    ///
    /// learning            = ((40-10) + (50-20) + (70-30)) / 3 = (30 + 30 + 40) / 3 = 33.333...
    /// held-out average    = [55, 51, 53, 47]
    /// held-out change     = [0, ((44-50)+(58-60))/2, ((46-50)+(60-60))/2, ((40-50)+(54-60))/2] = [0, -4, -2, -8]
    /// target forgetting   = ((30-40) + (45-50) + (70-70)) / 3 = -15 / 3 = -5
    /// backward transfer   = ((30-40) + (45-50)) / 2 = -7.5
    /// Chaudhry forgetting = ((max(40, 35) - 30) + (max(50) - 45)) / 2 = (10 + 5) / 2 = 7.5
    /// average accuracy    = (30 + 45 + 70) / 3 = 48.333...
    func testOneTargetPerStage() throws {
        let m = try ContinualMetrics(
            accuracies: [[10, 20, 30, 50, 60], [40, 22, 30, 44, 58], [35, 50, 31, 46, 60], [30, 45, 70, 40, 54]],
            benchmarks: ["A", "B", "C", "H1", "H2"],
            targets: [
                Target(benchmark: "A", stage: 1), Target(benchmark: "B", stage: 2), Target(benchmark: "C", stage: 3),
            ],
            heldOut: ["H1", "H2"])
        XCTAssertEqual(m.stageCount, 3)
        XCTAssertEqual(m.learning, 100.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.heldOutAveragePerStage, [55, 51, 53, 47])
        XCTAssertEqual(m.heldOutChangePerStage, [0, -4, -2, -8])
        XCTAssertEqual(m.heldOutForgetting, -8)
        XCTAssertEqual(m.targetForgetting, -5)
        XCTAssertEqual(m.backwardTransfer, -7.5)
        XCTAssertEqual(m.chaudhryForgetting, 7.5)
        XCTAssertEqual(m.averageAccuracy, 145.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.targets.map(\.gain), [30, 30, 40])
        XCTAssertEqual(m.targets.map(\.changeSinceTuning), [-10, -5, 0])
    }

    /// Forgetting followed by recovery, and a stage (3) that tunes no listed target.
    ///
    ///          T1   T2   T3   H
    ///   R0:    0   10   20   80
    ///   R1:   50   10   20   60     tuned on T1: held-out drops 20
    ///   R2:   30   60   22   78     tuned on T2: T1 forgets 20, held-out recovers to -2
    ///   R3:   45   55   20   70     (stage 3): T1 recovers to 45
    ///   R4:   40   58   80   79     tuned on T3
    ///
    /// learning            = ((50-0) + (60-10) + (80-20)) / 3 = 160 / 3 = 53.333...
    /// held-out change     = [0, -20, -2, -10, -1]; final -1
    /// target forgetting   = ((40-50) + (58-60) + (80-80)) / 3 = -12 / 3 = -4
    /// backward transfer   = ((40-50) + (58-60)) / 2 = -6
    /// Chaudhry forgetting = ((max(50, 30, 45) - 40) + (max(60, 55) - 58)) / 2 = (10 + 2) / 2 = 6
    ///                       (uses the best accuracy since tuning, not the dip at stage 2)
    /// average accuracy    = (40 + 58 + 80) / 3 = 59.333...
    func testForgettingThenRecovery() throws {
        let m = try ContinualMetrics(
            accuracies: [[0, 10, 20, 80], [50, 10, 20, 60], [30, 60, 22, 78], [45, 55, 20, 70], [40, 58, 80, 79]],
            benchmarks: ["T1", "T2", "T3", "H"],
            targets: [
                Target(benchmark: "T1", stage: 1), Target(benchmark: "T2", stage: 2), Target(benchmark: "T3", stage: 4),
            ],
            heldOut: ["H"])
        XCTAssertEqual(m.learning, 160.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.heldOutChangePerStage, [0, -20, -2, -10, -1])
        XCTAssertEqual(m.heldOutAveragePerStage, [80, 60, 78, 70, 79])
        XCTAssertEqual(m.heldOutForgetting, -1)
        XCTAssertEqual(m.targetForgetting, -4)
        XCTAssertEqual(m.backwardTransfer, -6)
        XCTAssertEqual(m.chaudhryForgetting, 6)
        XCTAssertEqual(m.averageAccuracy, 178.0 / 3, accuracy: 1e-12)

        let decoded = try JSONDecoder().decode(ContinualMetrics.self, from: JSONEncoder().encode(m))
        XCTAssertEqual(decoded, m)
    }

    /// One stage, two targets tuned jointly, no held-out benchmarks, an ignored column.
    ///
    ///          X    Y    Z(ignored)
    ///   R0:   20   40    1
    ///   R1:   70   50    2
    ///
    /// learning = ((70-20) + (50-40)) / 2 = 30; target forgetting = 0; average accuracy = 60;
    /// backward transfer and Chaudhry forgetting: no target tuned before the last stage -> nil.
    func testSingleStageWithoutHeldOut() throws {
        let m = try ContinualMetrics(
            accuracies: [[20, 40, 1], [70, 50, 2]], benchmarks: ["X", "Y", "Z"],
            targets: [Target(benchmark: "X", stage: 1), Target(benchmark: "Y", stage: 1)], heldOut: [])
        XCTAssertEqual(m.learning, 30)
        XCTAssertEqual(m.targetForgetting, 0)
        XCTAssertEqual(m.averageAccuracy, 60)
        XCTAssertNil(m.backwardTransfer)
        XCTAssertNil(m.chaudhryForgetting)
        XCTAssertEqual(m.heldOutChangePerStage, [])
        XCTAssertNil(m.heldOutForgetting)
    }

    func testShapeAndListErrors() {
        let targets = [Target(benchmark: "A", stage: 1)]
        func error(
            _ accuracies: [[Double]], _ benchmarks: [String] = ["A", "H"],
            targets: [Target] = targets, heldOut: [String] = ["H"]
        ) -> String {
            do {
                _ = try ContinualMetrics(
                    accuracies: accuracies, benchmarks: benchmarks, targets: targets, heldOut: heldOut)
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(
            error([[1, 2]]),
            "accuracy matrix has 1 row(s); expected stage 0 (the base model) and at least one tuning stage")
        XCTAssertEqual(
            error([[1, 2], [1, 2, 3]]),
            "accuracy matrix row for stage 1 has 3 value(s); expected 2, one per benchmark")
        XCTAssertEqual(error([[1, 2], [.nan, 2]]), "accuracy of \"A\" at stage 1 is nan; expected a finite number")
        XCTAssertEqual(
            error([[1, 2], [1, 2]], ["A", "A"]), "benchmark \"A\" names two columns of the accuracy matrix")
        XCTAssertEqual(error([[1, 2], [1, 2]], targets: []), "no target benchmarks given; expected at least one")
        XCTAssertEqual(
            error([[1, 2], [1, 2]], heldOut: ["Q"]),
            "held-out benchmark \"Q\" is not a column of the accuracy matrix (columns: A, H)")
        XCTAssertEqual(
            error([[1, 2], [1, 2]], heldOut: ["A"]),
            "benchmark \"A\" is listed as target and again as held-out; expected once")
        XCTAssertEqual(
            error([[1, 2], [1, 2]], targets: [Target(benchmark: "A", stage: 0)]),
            "target \"A\" is tuned at stage 0; expected a stage in 1...1 (stage 0 is the base model)")
        XCTAssertEqual(
            error([[1, 2], [1, 2]], targets: [Target(benchmark: "A", stage: 2)]),
            "target \"A\" is tuned at stage 2; expected a stage in 1...1 (stage 0 is the base model)")
    }
}
