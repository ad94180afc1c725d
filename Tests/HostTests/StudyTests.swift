import Foundation
import Host
import Kernel
import SkillTuneCLI
import XCTest

/// The whole study at the `tiny` preset: every stage, evaluation, probes, result files, resume.
final class StudyTests: XCTestCase {
    var scratch: URL!

    override func setUp() {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("skilltune-study-\(UUID().uuidString)")
        Progress.isEnabled = false
    }

    override func tearDown() { try? FileManager.default.removeItem(at: scratch) }

    func config() throws -> StudyConfig {
        var c = try StudyConfig.defaults(preset: "tiny")
        c.strategies = ["sa-proj", "mlp-gate-up", "lwf"]
        c.targets = ["count", "clock"]
        c.heldOut = ["diagram", "seed"]
        return c
    }

    func study(_ c: StudyConfig, out: String, resume: Bool = false) -> Study {
        setenv("SKILLTUNE_CACHE", scratch.appendingPathComponent("cache").path, 1)
        let s = Study(
            config: c, registries: SkillTuneRegistries.builtIn(), outputDirectory: scratch.appendingPathComponent(out),
            resume: resume)
        s.log = { _ in }
        return s
    }

    /// results.json without the wall-clock section.
    func deterministicPart(_ dir: String) throws -> Data {
        var r = try ResultFiles.read(from: scratch.appendingPathComponent(dir).appendingPathComponent("results.json"))
        r.timings = Timings(startedAt: "", totalSeconds: 0, pretrainSeconds: 0, strategySeconds: [:])
        return try ResultFiles.encoder.encode(r)
    }

    func testPretrainSettingsFromBeforeLossWeightingReadAsPerTokenAndNewOnesRoundTrip() throws {
        let old = #"{"steps":10,"batchSize":4,"learningRate":0.003,"examplesPerBenchmark":16,"examplesPerTarget":4}"#
        let decoded = try JSONDecoder().decode(PretrainSettings.self, from: Data(old.utf8))
        XCTAssertEqual(decoded.lossWeighting, .perToken, "a base trained before the option used the per-token mean")
        XCTAssertEqual(decoded.descriptionsPerBenchmark, 0)
        let current = try StudyConfig.defaults(preset: "small").pretraining
        XCTAssertEqual(current.lossWeighting, .perExample)
        XCTAssertEqual(try JSONDecoder().decode(PretrainSettings.self, from: JSONEncoder().encode(current)), current)
        XCTAssertEqual(current.descriptionsPerTarget, 3000)
        // No target descriptions: the field is left out, so settings (and base names) from before it stay the same.
        var none = current
        none.descriptionsPerTarget = 0
        let json = try XCTUnwrap(String(data: JSONEncoder().encode(none), encoding: .utf8))
        XCTAssertFalse(json.contains("descriptionsPerTarget"), json)
        XCTAssertTrue(
            String(data: try JSONEncoder().encode(current), encoding: .utf8)!.contains("descriptionsPerTarget"))
        XCTAssertEqual(try JSONDecoder().decode(PretrainSettings.self, from: Data(json.utf8)), none)
    }

    func testRunsEveryStageAndWritesTheResultFiles() throws {
        let results = try study(try config(), out: "a").run()
        XCTAssertEqual(results.stages, ["base", "count", "clock"])
        XCTAssertEqual(results.benchmarks.map(\.name), ["count", "clock", "diagram", "seed"])
        XCTAssertEqual(results.strategies.map(\.name), ["sa-proj", "mlp-gate-up", "lwf"])
        for s in results.strategies {
            XCTAssertEqual(s.status, "complete", s.failure ?? "")
            XCTAssertEqual(s.accuracy.count, 3)
            XCTAssertEqual(s.accuracy[0], results.strategies[0].accuracy[0], "every strategy starts from the same base")
            XCTAssertEqual(s.countingBias.count, 3)
            XCTAssertEqual(s.layerShift.count, 2)
            XCTAssertEqual(s.layerShift[0].mlp.count, 2, "tiny has 2 decoder layers")
            XCTAssertEqual(s.metrics.heldOutAveragePerStage.count, 3)
            XCTAssertGreaterThan(s.trainableParameters, 0)
            XCTAssertLessThan(s.trainableParameters, s.totalParameters)
        }
        // sa-proj leaves the MLPs alone, so its MLP outputs can shift only through the attention inputs;
        // mlp-gate-up freezes attention weights: at layer 0 the attention output cannot change at all.
        XCTAssertEqual(results.strategies[1].layerShift[0].attention[0], 0)
        let dir = scratch.appendingPathComponent("a")
        for f in ["results.json", "results.csv", "report.html", "study.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), f)
        }
        XCTAssertTrue(ResultFiles.summaryTable(results).contains("mlp-gate-up"))
    }

    func testResumeGivesTheSameResultsAsAnUninterruptedRun() throws {
        let c = try config()
        try study(c, out: "whole").run()
        try study(c, out: "cut").run()
        // Interrupt "cut": forget the last stage of two strategies and the final files.
        let cut = scratch.appendingPathComponent("cut")
        try FileManager.default.removeItem(at: cut.appendingPathComponent("checkpoints/mlp-gate-up/stage-2"))
        try FileManager.default.removeItem(at: cut.appendingPathComponent("checkpoints/lwf/stage-2"))
        try FileManager.default.removeItem(at: cut.appendingPathComponent("results.json"))
        XCTAssertThrowsError(try study(c, out: "cut").run()) {
            XCTAssertTrue("\($0)".contains("pass --resume"), "\($0)")
        }
        try study(c, out: "cut", resume: true).run()
        XCTAssertEqual(try deterministicPart("whole"), try deterministicPart("cut"))
        // Same seed and threads, two separate runs: the same bytes.
        try study(c, out: "again").run()
        XCTAssertEqual(try deterministicPart("whole"), try deterministicPart("again"))
    }

    func testResumeRefusesOtherSettingsAndBadNamesAreClearErrors() throws {
        var c = try config()
        try study(c, out: "r").run()
        c.training.steps += 1
        XCTAssertThrowsError(try study(c, out: "r", resume: true).run()) {
            XCTAssertTrue("\($0)".contains("started with other settings"), "\($0)")
        }
        var bad = try config()
        bad.strategies = ["sa_proj"]
        XCTAssertThrowsError(try study(bad, out: "b").run()) {
            XCTAssertTrue("\($0)".contains("Did you mean \"sa-proj\""), "\($0)")
        }
        bad = try config()
        bad.targets = ["count", "clocks"]
        XCTAssertThrowsError(try study(bad, out: "b2").run()) { XCTAssertTrue("\($0)".contains("clocks"), "\($0)") }
    }
}
