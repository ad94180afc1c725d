import Foundation
import Host
import Kernel
import SkillTuneCLI
import XCTest

/// The study on a Hugging Face checkpoint (`StudyConfig.model`) with data files as benchmarks: no pretraining,
/// stages named by the files, text-only recipes that cannot apply recorded as failed, per-sample logs, the
/// counting-bias probe without a caption or counting benchmark, memory refusal, and an interrupted run that
/// resumes to the same results.
final class OutsideModelStudyTests: ScratchTestCase {
    override class var scratchPrefix: String { "skilltune-outside" }

    func study(_ c: StudyConfig, out: String, resume: Bool = false) -> Study {
        let s = Study(
            config: c, registries: SkillTuneRegistries.builtIn(), outputDirectory: scratch.appendingPathComponent(out),
            resume: resume)
        s.log = { _ in }
        return s
    }

    func config(strategies: [String] = ["sa-proj", "lora"]) throws -> StudyConfig {
        try OutsideStudyFixture.config(
            model: try OutsideStudyFixture.checkpoint(in: scratch),
            data: try OutsideStudyFixture.data(in: scratch.appendingPathComponent("data")),
            strategies: strategies)
    }

    func testStudyOfAnHFCheckpointOnDataFiles() throws {
        let results = try study(try config(strategies: ["sa-proj", "vision", "moe"]), out: "a").run()
        XCTAssertEqual(results.stages, ["base", "arith", "colors"])
        XCTAssertEqual(results.benchmarks.map(\.name), ["arith", "colors", "facts"])
        XCTAssertEqual(results.settings.backbone, "qwen2")
        XCTAssertEqual(results.settings.model, scratch.appendingPathComponent("model").path)
        XCTAssertEqual(results.timings.pretrainSeconds, 0)
        let (sa, vision, moe) = (results.strategies[0], results.strategies[1], results.strategies[2])
        XCTAssertEqual(sa.status, "complete", sa.failure ?? "")
        XCTAssertEqual(moe.status, "complete", moe.failure ?? "")
        XCTAssertEqual(sa.accuracy.count, 3)
        XCTAssertEqual(sa.layerShift.map(\.attention.count), [2, 2], "qwen2-tiny has 2 decoder layers")
        XCTAssertEqual(vision.status, "failed")
        XCTAssertTrue(vision.failure?.contains("matches nothing in this qwen2 model") ?? false, vision.failure ?? "")
        XCTAssertEqual(vision.accuracy, [sa.accuracy[0]], "a strategy that cannot start keeps only the base row")
        // No caption or counting benchmark: held-out prompts form the held-out split, the counting split is empty.
        let bias = sa.countingBias[0]
        XCTAssertEqual(bias.heldOut.samples, 2)
        XCTAssertEqual(bias.counting.samples, 0)
        XCTAssertEqual(bias.counting.numberMassMean.mean, 0)
        // Every evaluated example is logged per stage and benchmark.
        let out = scratch.appendingPathComponent("a/samples")
        let base = try SampleLog.read(out.appendingPathComponent("base/arith.jsonl"))
        XCTAssertEqual(base.count, 4)
        XCTAssertEqual(base.map(\.score).reduce(0, +) / 4 * 100, sa.accuracy[0][0], accuracy: 1e-9)
        XCTAssertTrue(base.allSatisfy { $0.id.hasPrefix("arith-") && $0.prompt.hasPrefix("What is") })
        for b in ["arith", "colors", "facts"] {
            let evaluated = try SampleLog.read(out.appendingPathComponent("base/\(b).jsonl"))
            XCTAssertGreaterThan(evaluated.count, 0, b)
            for stage in ["stage-1-arith", "stage-2-colors"] {
                let file = out.appendingPathComponent("sa-proj/\(stage)/\(b).jsonl")
                XCTAssertEqual(try SampleLog.read(file).map(\.id), evaluated.map(\.id), file.path)
            }
        }
        let html = try String(contentsOf: scratch.appendingPathComponent("a/report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("arith"))
    }

    func testCountingSplitUsesACountTargetFile() throws {
        var c = try config(strategies: ["sa-proj"])
        let count = try OutsideStudyFixture.dataFile("count", in: scratch.appendingPathComponent("data")) {
            ("Bag \($0) holds \($0 % 6) apples. How many apples are in bag \($0)?", "\($0 % 6)")
        }
        c.targets = [count + "@numeric"]
        let results = try study(c, out: "c").run()
        XCTAssertEqual(results.stages, ["base", "count"])
        XCTAssertEqual(results.strategies[0].countingBias[1].counting.samples, 2)
        XCTAssertGreaterThan(results.strategies[0].countingBias[1].counting.numberMassMean.mean, 0)
    }

    /// results.json without the wall-clock section.
    func deterministicPart(_ dir: String) throws -> Data {
        var r = try ResultFiles.read(from: scratch.appendingPathComponent(dir).appendingPathComponent("results.json"))
        r.timings = Timings(startedAt: "", totalSeconds: 0, pretrainSeconds: 0, strategySeconds: [:])
        return try ResultFiles.encoder.encode(r)
    }

    func testInterruptedStudyOfAnHFCheckpointResumesToTheSameResults() throws {
        let c = try config(strategies: ["sa-proj", "lora", "lwf"])
        try study(c, out: "whole").run()
        try study(c, out: "cut").run()
        let cut = scratch.appendingPathComponent("cut")
        // A run killed during lora's second stage and before lwf: their later stages and the result files are gone.
        for path in ["checkpoints/lora/stage-2", "checkpoints/lwf", "samples/lwf", "results.json", "report.html"] {
            try FileManager.default.removeItem(at: cut.appendingPathComponent(path))
        }
        try study(c, out: "cut", resume: true).run()
        XCTAssertEqual(try deterministicPart("whole"), try deterministicPart("cut"))
        let whole = scratch.appendingPathComponent("whole/samples/lora/stage-2-colors/facts.jsonl")
        XCTAssertEqual(
            try Data(contentsOf: whole),
            try Data(contentsOf: cut.appendingPathComponent("samples/lora/stage-2-colors/facts.jsonl")))
    }

    /// `evalData` pairs a data file with an explicit eval file by its name: that benchmark's eval split is the
    /// other file's items (all of them, any split field aside), its train split the whole first file; a name
    /// that is no benchmark of the study is an error naming the ones there are.
    func testEvalDataGivesATargetItsOwnEvalFile() throws {
        var c = try config(strategies: ["sa-proj"])
        let evalFile = try OutsideStudyFixture.dataFile(
            "colors-eval", in: scratch.appendingPathComponent("data"), count: 5
        ) {
            ("Which color is item \($0)?", "red")
        }
        c.evalData = ["colors": evalFile]
        let data = try StudyData(config: c, registries: SkillTuneRegistries.builtIn())
        let prompts = try XCTUnwrap(data.eval["colors"]).map(\.prompt)
        XCTAssertEqual(prompts.count, min(5, c.evalExamplesPerBenchmark))
        XCTAssertTrue(Set(prompts).isSubset(of: (0..<5).map { "Which color is item \($0)?" }), "\(prompts)")
        XCTAssertFalse(data.train["colors"]?.contains { $0.prompt.hasPrefix("Which color") } ?? true)
        c.evalData = ["colour": evalFile]
        XCTAssertThrowsError(try StudyData(config: c, registries: SkillTuneRegistries.builtIn())) { error in
            XCTAssertTrue("\(error)".contains("evalData names 'colour'"), "\(error)")
            XCTAssertTrue("\(error)".contains("arith, colors, facts"), "\(error)")
        }
    }

    func testMemoryEstimatesAndARunThatWouldNotFitIsRefused() throws {
        let registries = SkillTuneRegistries.builtIn()
        let model = try registries.loadBackbone(directory: try OutsideStudyFixture.checkpoint(in: scratch))
        let shapes = model.namedParameters().map { ParameterShape(name: $0.name, shape: $0.tensor.shape) }
        let total = shapes.reduce(0) { $0 + $1.count }
        func estimate(_ name: String, _ options: [String: String] = [:]) throws -> TrainingMemory {
            try registries.strategy(name, options: options).memoryEstimate(parameters: shapes)
        }
        func count(_ filter: (String) -> Bool) -> Int { shapes.filter { filter($0.name) }.reduce(0) { $0 + $1.count } }
        let attention = count { $0.contains(".self_attn.") }
        let mlp = count { $0.contains(".mlp.") }
        XCTAssertEqual(try estimate("full"), TrainingMemory(parameters: total, trainable: total))
        XCTAssertEqual(try estimate("sa-proj").trainableParameters, attention)
        XCTAssertEqual(try estimate("sa-proj").optimizer, UInt64(attention * 8), "AdamW: two Float32 moments")
        XCTAssertEqual(try estimate("lwf").copies, UInt64(total * 4), "the teacher is a whole copy")
        XCTAssertEqual(try estimate("lwf").trainableParameters, mlp)
        XCTAssertEqual(try estimate("moe").trainableParameters, mlp + 2 * 2 * (64 + 1), "expert copies and routers")
        XCTAssertEqual(try estimate("moe").weights, UInt64((total + mlp + 2 * 2 * 65) * 4))
        // qwen2-tiny: hidden 64, intermediate 128, 2 layers; gate/up [128, 64], down [64, 128].
        XCTAssertEqual(try estimate("lora", ["rank": "4"]).trainableParameters, 2 * 3 * 4 * (128 + 64))

        // Real strategies measured with the model in hand: what `prepare` makes trainable is what was estimated.
        for name in ["sa-proj", "mlp-gate-up", "lwf", "lora", "moe"] {
            let fresh = try registries.loadBackbone(directory: scratch.appendingPathComponent("model"))
            let strategy = try registries.strategy(name)
            try strategy.prepare(fresh, stage: StageContext(index: 1, name: "x", totalSteps: 1, seed: 0))
            XCTAssertEqual(
                strategy.memoryEstimate(parameters: shapes).trainableParameters,
                fresh.parameterCounts.trainable, name)
        }

        let c = try config(strategies: ["sa-proj", "lwf"])
        let check = MemoryCheck(
            strategy: try registries.strategy("sa-proj"), model: model, batchSize: 4, sequenceLength: 20,
            keepsBase: true)
        XCTAssertGreaterThan(check.activations, 0)
        XCTAssertThrowsError(try check.check(limit: check.total - 1)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("strategy 'sa-proj' would need about "), text)
            XCTAssertTrue(text.contains("activations"), text)
            XCTAssertTrue(text.contains("SKILLTUNE_MEMORY_LIMIT"), text)
        }
        XCTAssertNoThrow(try check.check(limit: check.total))
        // The study checks every strategy with its longest training sequence before the base is evaluated, with
        // prompts rendered as the study renders them (the checkpoint's chat template, by default).
        try (c.chatTemplate ?? .auto).apply(to: model)
        let data = try StudyData(config: c, registries: registries)
        let longest = MemoryCheck.longestSequence(data.train.values.flatMap { $0 }, model: model)
        func studyCheck(_ name: String) throws -> MemoryCheck {
            MemoryCheck(
                strategy: try registries.strategy(name), model: model, batchSize: c.training.batchSize,
                sequenceLength: longest, keepsBase: true)
        }
        XCTAssertLessThan(try studyCheck("sa-proj").total, try studyCheck("lwf").total)
        setenv("SKILLTUNE_MEMORY_LIMIT", "\(try studyCheck("lwf").total - 1)", 1)
        defer { unsetenv("SKILLTUNE_MEMORY_LIMIT") }
        XCTAssertThrowsError(try study(c, out: "m").run()) { error in
            XCTAssertTrue("\(error)".hasPrefix("strategy 'lwf' would need about"), "\(error)")
        }
        XCTAssertFalse(
            FileManager.default.fileExists(
                atPath: scratch.appendingPathComponent("m/checkpoints/base/stage.json").path),
            "refused before the base model is evaluated")
    }
}
