import Foundation
import Host
import Kernel
import SkillTuneCLI
import XCTest

/// A strategy whose loss turns NaN (or infinite) at a chosen stage and step.
final class PoisonedLoss: TuningStrategy {
    let stage: Int, step: Int, value: Float
    var poisonGradient = false
    var name: String { "poisoned" }
    var options: [StrategyOption] { [] }
    private var steps = 0

    init(stage: Int, step: Int, value: Float) {
        self.stage = stage
        self.step = step
        self.value = value
    }

    func prepare(_ model: any Backbone, stage: StageContext) throws {
        steps = 0
        model.setTrainable { $0.contains(".mlp.") }
    }

    func loss(_ model: any Backbone, batch: Batch, stage context: StageContext) -> Tensor {
        steps += 1
        let loss = answerCrossEntropy(model, batch)
        guard context.index == stage, steps == step else { return loss }
        guard poisonGradient else { return loss * value }
        // A finite loss whose backward writes `value` into the gradient of the first trainable parameter.
        let parameter = model.namedParameters().first { $0.tensor.requiresGrad }!.tensor
        let zero = Tensor(scalar: 0)
        Autograd.record(zero, inputs: [parameter], op: "poison") { _ in parameter.gradStorage()[0] = self.value }
        return loss + zero
    }
}

/// NaN and infinite losses stop only the strategy they hit, with a message naming stage and step; the last
/// good checkpoint stays, the other strategies go on; `skipNonFiniteSteps` skips such steps instead.
final class NumericalFaultTests: XCTestCase {
    var scratch: URL!

    override func setUp() {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("skilltune-nan-\(UUID().uuidString)")
        Progress.isEnabled = false
        setenv("SKILLTUNE_CACHE", scratch.appendingPathComponent("cache").path, 1)
    }

    override func tearDown() {
        Progress.isEnabled = true
        try? FileManager.default.removeItem(at: scratch)
    }

    func study(value: Float, skip: Bool, out: String, gradient: Bool = false) throws -> (StudyResults, [String]) {
        let registries = SkillTuneRegistries.builtIn()
        try registries.strategies.register(name: "poisoned", summary: "NaN at stage 2, step 2") { _ in
            let strategy = PoisonedLoss(stage: 2, step: 2, value: value)
            strategy.poisonGradient = gradient
            return strategy
        }
        var c = try StudyConfig.defaults(preset: "tiny")
        c.strategies = ["sa-proj", "poisoned", "mlp-gate-up"]
        c.targets = ["count", "clock"]
        c.heldOut = ["diagram"]
        c.training.skipNonFiniteSteps = skip
        let s = Study(config: c, registries: registries, outputDirectory: scratch.appendingPathComponent(out))
        var lines: [String] = []
        s.log = { lines.append($0) }
        return (try s.run(), lines)
    }

    func testNaNStopsOnlyThatStrategyAndKeepsItsLastGoodCheckpoint() throws {
        let (results, log) = try study(value: .nan, skip: false, out: "nan")
        let poisoned = try XCTUnwrap(results.strategies.first { $0.name == "poisoned" })
        XCTAssertEqual(poisoned.status, "failed")
        let failure = try XCTUnwrap(poisoned.failure)
        XCTAssertTrue(failure.contains("stage 'clock', step 2"), failure)
        XCTAssertTrue(failure.contains("nan"), failure)
        XCTAssertTrue(log.contains { $0.hasPrefix("poisoned: FAILED: stage 'clock', step 2") }, "\(log)")
        XCTAssertEqual(poisoned.accuracy.count, 2, "base and the finished stage 1")
        for name in ["sa-proj", "mlp-gate-up"] {
            XCTAssertEqual(
                results.strategies.first { $0.name == name }?.status, "complete", "the other strategies go on")
        }
        let checkpoints = scratch.appendingPathComponent("nan/checkpoints/poisoned")
        XCTAssertNoThrow(
            try SafeTensorsFile(url: checkpoints.appendingPathComponent("stage-1/model.safetensors")),
            "last good checkpoint kept")
        XCTAssertFalse(FileManager.default.fileExists(atPath: checkpoints.appendingPathComponent("stage-2").path))
        XCTAssertTrue(ResultFiles.summaryTable(results).contains("failed"))
    }

    func testInfiniteLossIsAFaultTooAndSkipping() throws {
        let (failed, _) = try study(value: .infinity, skip: false, out: "inf")
        XCTAssertEqual(failed.strategies.first { $0.name == "poisoned" }?.status, "failed")
        XCTAssertTrue(failed.strategies.first { $0.name == "poisoned" }?.failure?.contains("step 2") ?? false)

        let (skipped, _) = try study(value: .nan, skip: true, out: "skip")
        let poisoned = try XCTUnwrap(skipped.strategies.first { $0.name == "poisoned" })
        XCTAssertEqual(poisoned.status, "complete", poisoned.failure ?? "")
        XCTAssertEqual(poisoned.accuracy.count, 3)
        XCTAssertTrue(poisoned.trainingLoss.allSatisfy { $0.mean.isFinite })
    }

    func testNaNGradientWithAFiniteLossStopsTheStrategyToo() throws {
        let (results, _) = try study(value: .nan, skip: false, out: "grad", gradient: true)
        let poisoned = try XCTUnwrap(results.strategies.first { $0.name == "poisoned" })
        XCTAssertEqual(poisoned.status, "failed")
        XCTAssertTrue(
            poisoned.failure?.contains("stage 'clock', step 2: the gradient norm is nan") ?? false,
            poisoned.failure ?? "")
    }
}
