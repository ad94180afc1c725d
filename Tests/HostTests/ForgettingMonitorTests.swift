import Foundation
import Host
import Kernel
import XCTest

/// The label-free forgetting monitor: KL to the base against a hand computation, and `--probe-at` leaving
/// training bit-identical while it logs a point at each probed step of every stage.
final class ForgettingMonitorTests: ScratchTestCase {
    override class var scratchPrefix: String { "skilltune-monitor" }

    func testMeanKLAgainstAHandComputation() {
        // KL([0.5, 0.5] ‖ [0.25, 0.75]) = 0.5 ln 2 + 0.5 ln(2/3) = 0.143841036.
        let tuned = [[log(0.5), log(0.5)]]
        let base = [[log(0.25), log(0.75)]]
        XCTAssertEqual(ForgettingMonitor.meanKL(tuned: tuned, base: base), 0.143841036, accuracy: 1e-9)
        XCTAssertEqual(ForgettingMonitor.meanKL(tuned: base, base: base), 0)
        // A zero-probability token contributes nothing; prompts of other sizes are left out of the mean.
        let withZero = [[0, -Double.infinity]]
        XCTAssertEqual(ForgettingMonitor.meanKL(tuned: withZero, base: base), -log(0.25), accuracy: 1e-12)
        XCTAssertEqual(
            ForgettingMonitor.meanKL(tuned: tuned + [[0]], base: base + [[log(0.5), log(0.5)]]), 0.143841036,
            accuracy: 1e-9)
    }

    func config(probeAt: [Int]?) throws -> StudyConfig {
        var c = try StudyConfig.defaults(preset: "tiny")
        c.strategies = ["sa-proj", "lora"]
        c.targets = ["count", "clock"]
        c.heldOut = ["diagram", "seed"]
        c.training.steps = 4
        c.probeAt = probeAt
        return c
    }

    func run(_ c: StudyConfig, _ out: String) throws -> StudyResults {
        setenv("SKILLTUNE_CACHE", scratch.appendingPathComponent("cache").path, 1)
        let study = Study(
            config: c, registries: .builtIn(), outputDirectory: scratch.appendingPathComponent(out))
        study.log = { _ in }
        return try study.run()
    }

    func testProbeAtLogsTheMonitorAndLeavesTrainingBitIdentical() throws {
        let plain = try run(try config(probeAt: nil), "plain")
        let probed = try run(try config(probeAt: [1, 2, 9]), "probed")
        for (a, b) in zip(plain.strategies, probed.strategies) {
            XCTAssertNil(a.monitor)
            var withoutMonitor = b
            withoutMonitor.monitor = nil
            XCTAssertEqual(a, withoutMonitor, "\(a.name): training, evaluation and probes as without --probe-at")
            let monitor = try XCTUnwrap(b.monitor)
            XCTAssertEqual(monitor.map(\.stage), ["count", "clock"])
            for stage in monitor {
                XCTAssertEqual(stage.points.map(\.step), [1, 2, 4], "the probed steps within the stage, and its last")
                for point in stage.points {
                    XCTAssertTrue(point.klToBase.isFinite && point.klToBase >= 0, "\(point)")
                    XCTAssertTrue((0...1).contains(point.heldOutNumberMass), "\(point)")
                }
            }
            XCTAssertGreaterThan(monitor[1].points.last!.klToBase, 0, "tuned for two stages, the model has moved")
        }
        let html = HTMLReport.render(probed)
        XCTAssertTrue(html.contains("Forgetting without labels"))
        XCTAssertTrue(html.contains("KL to base"))
        XCTAssertFalse(HTMLReport.render(plain).contains("Forgetting without labels"))
    }
}
