import Foundation
import HFCausalLM
import Host
import Kernel
import SkillTuneCLI
import TinyLLaVA
import XCTest

/// A full disk leaves the previous results intact and says so; checkpoints too large for memory are refused
/// before anything is built or loaded.
final class ResourceBoundsTests: XCTestCase {
    var scratch: URL!

    override func setUp() {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("skilltune-res-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() {
        FaultInjection.simulatedDiskFullAfterBytes = nil
        unsetenv("SKILLTUNE_MEMORY_LIMIT")
        try? FileManager.default.removeItem(at: scratch)
    }

    func results(seed: UInt64) -> StudyResults {
        let metrics = StudyMetrics(
            learning: 1, heldOutForgettingFinal: -1, heldOutForgettingPerStage: [0, -1],
            heldOutAveragePerStage: [50, 49],
            targetForgetting: 0, backwardTransfer: 0, chaudhryForgetting: 0, averageTargetAccuracy: 40)
        let split = CountingBiasSplit(
            samples: 1, numberMassMean: MeanStd(mean: 0, std: 0), numberMassMax: MeanStd(mean: 0, std: 0),
            maxNumberProbabilityMean: MeanStd(mean: 0, std: 0), maxNumberProbabilityMax: MeanStd(mean: 0, std: 0),
            maxNumberLogitMean: MeanStd(mean: 0, std: 0), maxNumberLogitMax: MeanStd(mean: 0, std: 0))
        let strategy = StrategyResult(
            name: "sa-proj", summary: "", options: [], trainableParameters: 1, totalParameters: 2, status: "complete",
            accuracy: [[10, 50], [40, 49]], metrics: metrics,
            countingBias: [CountingBiasResult(stage: "base", heldOut: split, counting: split)], layerShift: [],
            trainingLoss: [StageLoss(stage: "count", mean: 1, curve: [1])])
        let settings = StudySettings(
            backbone: "tiny-llava", preset: "quick", seed: seed, threads: 1, targets: ["count"], heldOut: ["seed"],
            stepsPerStage: 1, batchSize: 1, learningRate: 1, warmupFraction: 0, weightDecay: 0, gradientClip: 1,
            trainExamplesPerTarget: 1, evalExamplesPerBenchmark: 1, maxNewTokens: 1, probeExamples: 1, baseModel: "x")
        return StudyResults(
            settings: settings,
            benchmarks: [BenchmarkInfo(name: "count", role: "target"), BenchmarkInfo(name: "seed", role: "held-out")],
            stages: ["base", "count"], strategies: [strategy],
            timings: Timings(startedAt: "now", totalSeconds: 1, pretrainSeconds: 0, strategySeconds: [:]))
    }

    func testFullDiskLeavesThePreviousResultsIntactAndSaysSo() throws {
        try ResultFiles.write(results(seed: 1), to: scratch)
        let before = try ResultFiles.fileNames.map { try Data(contentsOf: scratch.appendingPathComponent($0)) }

        FaultInjection.simulatedDiskFullAfterBytes = 100
        XCTAssertThrowsError(try ResultFiles.write(results(seed: 2), to: scratch)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("No space left on device"), text)
            XCTAssertTrue(text.contains("The previous results.json, results.csv, report.html"), text)
            XCTAssertTrue(text.contains("intact"), text)
        }
        FaultInjection.simulatedDiskFullAfterBytes = nil
        let after = try ResultFiles.fileNames.map { try Data(contentsOf: scratch.appendingPathComponent($0)) }
        XCTAssertEqual(before, after, "every previous file is intact")
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted(), ResultFiles.fileNames.sorted(),
            "no temporary file is left behind")
        XCTAssertEqual(try ResultFiles.read(from: scratch.appendingPathComponent("results.json")).settings.seed, 1)
    }

    func testWritingToAFullDeviceIsAnError() throws {
        // /dev/full is not a directory we can rename into, but writing a temporary file beside a path under
        // a read-only or full location must fail cleanly, never crash. Here: a directory that does not exist.
        XCTAssertThrowsError(
            try AtomicFile.write(Data([1, 2, 3]), to: URL(fileURLWithPath: "/nonexistent-dir/x/results.json")))
    }

    func testTinyLLaVACheckpointLargerThanMemoryIsRefusedBeforeLoading() throws {
        let model = try TinyLLaVA(preset: "tiny", vocabulary: ["a", "b"], seed: 1)
        let directory = scratch.appendingPathComponent("model")
        try model.save(to: directory)
        XCTAssertNoThrow(try TinyLLaVA.load(from: directory))

        setenv("SKILLTUNE_MEMORY_LIMIT", "1K", 1)
        XCTAssertThrowsError(try TinyLLaVA.load(from: directory)) { error in
            XCTAssertTrue(error is MemoryBudgetError, "\(error)")
            XCTAssertTrue("\(error)".contains("refusing to load"), "\(error)")
        }
        unsetenv("SKILLTUNE_MEMORY_LIMIT")

        // A config that declares a huge model (here 2^20 x 2^20 embeddings = 4 TB) is refused from its shape
        // alone, whatever the machine, before the model is built.
        let configURL = directory.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        var text = json["text_config"] as! [String: Any]
        text["hidden_size"] = 1 << 20
        text["vocab_size"] = 1 << 20
        json["text_config"] = text
        try JSONSerialization.data(withJSONObject: json).write(to: configURL)
        let started = Date()
        XCTAssertThrowsError(try TinyLLaVA.load(from: directory)) { error in
            XCTAssertTrue("\(error)".contains("refusing to load") || "\(error)".contains("vocab_size"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    func testSizeEstimatesMatchTheModelsTheyDescribe() throws {
        let model = try TinyLLaVA(preset: "quick", vocabulary: ["a", "b", "c"], seed: 1)
        XCTAssertEqual(TinyLLaVA.float32Bytes(of: model.fullConfig), UInt64(model.parameterCounts.total) * 4)
        let hf = try HFCausalLM.create(
            config: HFModelConfig(
                modelType: "qwen2",
                decoder: .init(
                    vocabularySize: 300, hiddenSize: 32, intermediateSize: 48, layers: 2, heads: 4, kvHeads: 2,
                    ropeTheta: 10_000,
                    rmsNormEps: 1e-6, attentionBias: true, tieWordEmbeddings: false, maxPositions: 64)), seed: 1)
        XCTAssertEqual(hf.configuration.decoder.float32ParameterBytes, UInt64(hf.parameterCounts.total) * 4)
    }

    func testHFCheckpointWhoseConfigIsTooLargeIsRefused() throws {
        let fixture = SkillTuneProcess.packageRoot.appendingPathComponent("Tests/Fixtures/hf/qwen2-tiny")
        let directory = scratch.appendingPathComponent("qwen2")
        try FileManager.default.copyItem(at: fixture, to: directory)
        let configURL = directory.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        json["num_hidden_layers"] = 1 << 30
        try JSONSerialization.data(withJSONObject: json).write(to: configURL)
        XCTAssertThrowsError(try HFCausalLM.load(directory: directory)) { error in
            XCTAssertTrue("\(error)".contains("refusing to load"), "\(error)")
        }
    }
}
