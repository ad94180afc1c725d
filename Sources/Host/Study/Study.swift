import Foundation
import Kernel

/// What one finished stage of one strategy produced; saved as `stage.json` beside its checkpoint so an
/// interrupted comparison resumes without redoing it.
struct StageRecord: Codable {
    var stage: String
    /// Accuracy per column (targets, then held-out), in percent.
    var accuracy: [Double]
    var countingBias: CountingBiasResult
    var layerShift: LayerShiftResult?
    var loss: StageLoss
    var trainableParameters: Int
    var totalParameters: Int
    var seconds: Double
    /// The forgetting monitor at the `--probe-at` steps (nil without them).
    var monitor: [MonitorPoint]? = nil
}

/// The sequential fine-tuning study: every strategy starts from the same base model and learns the target
/// skills one stage after another; after the base and after every stage, every target and held-out
/// benchmark is evaluated greedily and both probes run.
///
/// The base model is the checkpoint `config.model` names, else the built-in backbone pretrained (and cached)
/// by `Pretrainer`; every strategy starts from a fresh load of it.
///
/// Files under `outputDirectory`: `study.json` (the settings; a valid `--config` that reruns the study),
/// `checkpoints/<strategy>/stage-<k>/` (`stage.json`, and `model.safetensors` for the newest stage),
/// `samples/base/<benchmark>.jsonl` and `samples/<strategy>/stage-<k>-<stage>/<benchmark>.jsonl` (every
/// evaluated example's prompt, reference, prediction and score), then `results.json`, `results.csv` and
/// `report.html`. Everything is written to a temporary name first and renamed, so an interrupted run never
/// leaves a half-written file; `resume` continues from the last finished stage with identical results.
public final class Study {
    public let config: StudyConfig
    public let registries: SkillTuneRegistries
    public let outputDirectory: URL
    public let resume: Bool
    /// Where progress messages go (standard error by default).
    public var log: (String) -> Void = { Terminal.error($0) }

    public init(config: StudyConfig, registries: SkillTuneRegistries, outputDirectory: URL, resume: Bool = false) {
        self.config = config
        self.registries = registries
        self.outputDirectory = outputDirectory
        self.resume = resume
    }

    var checkpoints: URL { outputDirectory.appendingPathComponent("checkpoints") }
    /// Per-example evaluation logs: `samples/base/<benchmark>.jsonl` and
    /// `samples/<strategy>/stage-<k>-<stage>/<benchmark>.jsonl`.
    var samplesDirectory: URL { outputDirectory.appendingPathComponent("samples") }

    func samplesDirectory(strategy: String, stage k: Int, target: String) -> URL {
        samplesDirectory.appendingPathComponent(safeName(strategy)).appendingPathComponent(
            "stage-\(k)-\(safeName(target))")
    }

    /// Checks every name and setting before any work starts.
    public func validate() throws {
        let problems = config.problems()
        guard problems.isEmpty else { throw HostError("bad settings: " + problems.joined(separator: "; ")) }
        if config.model == nil {
            _ = try registries.backbones.entry(named: config.backbone)
            for name in [config.captionBenchmark, config.countingBenchmark] {
                _ = try registries.benchmarks.entry(named: name)
            }
        }
        for name in config.strategies {
            _ = try registries.strategy(name, options: config.strategyOptions[name] ?? [:])
        }
        for (references, expected) in [(config.targets, BenchmarkRole.target), (config.heldOut, .heldOut)] {
            for b in references where registries.benchmarks.contains(b) {
                let role = try registries.benchmark(b).role
                if role != expected && role != .auxiliary {
                    log(
                        "note: benchmark '\(b)' is registered as \(role.rawValue) but used as \(expected.rawValue) here"
                    )
                }
            }
        }
    }

    /// Runs (or resumes) the comparison and writes the result files: the base phase, then every strategy's cell
    /// in order, then the results assembled from them (what `merge` does with cells run elsewhere). With several
    /// seeds, the whole study once per seed (each in `seed-<s>/`, with its own base model), then their
    /// combination (`SeedAggregate`).
    @discardableResult
    public func run() throws -> StudyResults {
        let seeds = config.seedList
        guard seeds.count > 1 else { return try runOneSeed() }
        try validate()
        try prepareOutputDirectory(leftovers: [])
        var runs: [(seed: UInt64, results: StudyResults)] = []
        for (i, seed) in seeds.enumerated() {
            try Interruption.check("the start of seed \(seed)")
            log("seed \(seed) (\(i + 1) of \(seeds.count))")
            runs.append((seed, try seedStudy(seed).run()))
        }
        let combined = try SeedAggregate.combine(runs)
        try ResultFiles.write(combined, to: outputDirectory)
        return combined
    }

    /// The study of one of the seeds: this one when it has one seed, else its own study in `seed-<s>/`.
    public func seedStudy(_ seed: UInt64) -> Study {
        guard config.seedList.count > 1 else { return self }
        let study = Study(
            config: config.forSeed(seed), registries: registries,
            outputDirectory: outputDirectory.appendingPathComponent("seed-\(seed)"), resume: resume)
        study.log = log
        return study
    }

    func runOneSeed() throws -> StudyResults {
        let started = Date()
        let base = try prepareBase(startedAt: started)
        var cells: [CellRecord] = []
        for name in config.strategies {
            try Interruption.check("the start of strategy '\(name)'")
            cells.append(try runCell(name, base: base))
        }
        let study = assemble(
            base: base.record, cells: cells, threads: Parallel.threads,
            startedAt: ISO8601DateFormatter().string(from: started), totalSeconds: Date().timeIntervalSince(started))
        try ResultFiles.write(study, to: outputDirectory)
        return study
    }

    /// Refuses, before any strategy is built, a strategy whose training would not fit in memory (the base model
    /// stays loaded beside it for the probes).
    func checkMemory(base: any Backbone, data: StudyData) throws {
        let longest = MemoryCheck.longestSequence(data.train.values.flatMap { $0 }, model: base)
        for name in config.strategies {
            let strategy = try registries.strategy(name, options: config.strategyOptions[name] ?? [:])
            try MemoryCheck(
                strategy: strategy, model: base, batchSize: config.training.batchSize,
                sequenceLength: longest, keepsBase: true
            ).check()
        }
    }

    /// The base model's record: read back when an earlier run finished it, else evaluated and saved.
    func baseStageRecord(_ base: any Backbone, data: StudyData) throws -> StageRecord {
        let directory = checkpoints.appendingPathComponent("base")
        if let record = try stageRecord(at: directory) { return record }
        log("evaluating the base model on \(data.columns.count) benchmarks")
        let record = try evaluateStage(
            model: base, base: nil, data: data, stageName: "base", losses: [], seconds: 0,
            samples: samplesDirectory.appendingPathComponent("base"))
        try saveStage(record, model: nil, to: directory)
        return record
    }

    // MARK: One strategy

    /// Trains (or resumes) every stage of one strategy. A strategy that cannot apply to this model (a recipe
    /// that selects nothing, such as `vision` on a text-only model) or whose training fails is recorded as
    /// failed with the reason; the other strategies go on.
    func runStrategy(
        _ name: String, base: any Backbone, baseDirectory: URL, baseRecord: StageRecord,
        data: StudyData
    ) throws -> (StrategyResult, Double) {
        let strategy = try registries.strategy(name, options: config.strategyOptions[name] ?? [:])
        let directory = checkpoints.appendingPathComponent(safeName(name))
        var records = try finishedStages(directory, data: data)
        var failure: String?
        if records.count < data.targets.count {
            do {
                let model = try resumedModel(
                    strategy, name: name, baseDirectory: baseDirectory, directory: directory,
                    finished: records.count, data: data)
                for k in (records.count + 1)...data.targets.count {
                    let record = try trainStage(k, strategy: strategy, name: name, model: model, base: base, data: data)
                    try saveStage(record, model: model, to: stageDirectory(directory, k))
                    if k > 1 {
                        try? FileManager.default.removeItem(
                            at: stageDirectory(directory, k - 1).appendingPathComponent("model.safetensors"))
                    }
                    records.append(record)
                }
            } catch let error where error is TrainingError || error is StrategyError {
                failure = "\(error)"
                log("\(name): FAILED: \(error); the last good checkpoint is kept, the other strategies go on")
            }
        } else {
            log("\(name): all \(records.count) stages already finished")
        }
        let result = try strategyResult(
            name, strategy: strategy, base: base, baseRecord: baseRecord, records: records,
            failure: failure, data: data)
        return (result, records.reduce(0) { $0 + $1.seconds })
    }

    /// The finished stages of a strategy, up to the newest whose weights are still there (only the newest
    /// weights are kept); stages after it are recomputed, which gives the same results since training is
    /// deterministic.
    func finishedStages(_ directory: URL, data: StudyData) throws -> [StageRecord] {
        var records: [StageRecord] = []
        for (k, target) in data.targetNames.enumerated() {
            guard let record = try stageRecord(at: stageDirectory(directory, k + 1)), record.stage == target else {
                break
            }
            records.append(record)
        }
        func hasWeights(_ stage: Int) -> Bool {
            FileManager.default.fileExists(
                atPath: stageDirectory(directory, stage).appendingPathComponent("model.safetensors").path)
        }
        while !records.isEmpty && !hasWeights(records.count) { records.removeLast() }
        return records
    }

    /// A fresh load of the base model, with the weights of stage `finished` when resuming after it.
    func resumedModel(
        _ strategy: any TuningStrategy, name: String, baseDirectory: URL, directory: URL, finished k: Int,
        data: StudyData
    ) throws -> any Backbone {
        let model = try registries.loadBackbone(directory: baseDirectory)
        try (config.chatTemplate ?? .auto).apply(to: model)
        guard k > 0 else { return model }
        try strategy.installModules(model, stage: context(k, data))
        let weights = stageDirectory(directory, k).appendingPathComponent("model.safetensors")
        let file = try SafeTensorsFile(url: weights)
        try MemoryBudget.check(float32Bytes: file.float32ByteCount, what: "the weights of \(weights.path)")
        try model.load(try file.tensorsByName(), source: weights.path)
        log("\(name): resuming after stage \(k) (\(data.targetNames[k - 1]))")
        return model
    }

    /// The result of one strategy from its stage records (metrics only when every stage finished).
    func strategyResult(
        _ name: String, strategy: any TuningStrategy, base: any Backbone, baseRecord: StageRecord,
        records: [StageRecord], failure: String?, data: StudyData
    ) throws -> StrategyResult {
        let rows = [baseRecord.accuracy] + records.map(\.accuracy)
        let metrics =
            failure == nil
            ? try studyMetrics(rows, data: data)
            : Self.emptyMetrics(rows, targets: data.targets.count, heldOut: data.heldOut.count)
        let first = records.first
        let monitored = records.contains { $0.monitor != nil }
        let monitor = monitored ? records.map { StageMonitor(stage: $0.stage, points: $0.monitor ?? []) } : nil
        return StrategyResult(
            name: name, summary: (try? registries.strategies.entry(named: name).summary) ?? "",
            options: strategy.options,
            trainableParameters: first?.trainableParameters ?? 0,
            totalParameters: first?.totalParameters ?? base.parameterCounts.total,
            status: failure == nil ? "complete" : "failed", failure: failure, accuracy: rows, metrics: metrics,
            countingBias: [baseRecord.countingBias] + records.map(\.countingBias),
            layerShift: records.compactMap(\.layerShift), trainingLoss: records.map(\.loss), monitor: monitor)
    }

    func context(_ k: Int, _ data: StudyData) -> StageContext {
        StageContext(index: k, name: data.targetNames[k - 1], totalSteps: config.training.steps, seed: config.seed)
    }

    /// Trains stage k, then evaluates and probes the result.
    func trainStage(
        _ k: Int, strategy: any TuningStrategy, name: String, model: any Backbone, base: any Backbone,
        data: StudyData
    ) throws -> StageRecord {
        let target = data.targetNames[k - 1]
        let started = Date()
        var schedule = BatchSchedule(
            examples: data.train[target] ?? [], batchSize: config.training.batchSize,
            generator: RandomGenerator(seed: config.seed).fork("stage.\(k).\(target)"))
        let progress = Progress("\(name) \(k)/\(data.targets.count) \(target)", total: config.training.steps)
        var counts = (trainable: 0, total: 0)
        var recent: [Float] = []
        let monitorSteps = ForgettingMonitor.steps(config.probeAt, stageSteps: config.training.steps)
        let monitor = monitorSteps.isEmpty ? nil : StageMonitorRun(base: base, data: data)
        var points: [MonitorPoint] = []
        let report = try StageTrainer.run(
            model: model, strategy: strategy, stage: context(k, data), settings: config.training,
            batch: { step in
                if step == 0 { counts = model.parameterCounts }
                return makeBatch(model, schedule.next())
            }
        ) { step, loss, _ in
            recent.append(loss)
            if recent.count > 20 { recent.removeFirst() }
            progress.update(step, detail: String(format: "loss %.3f", recent.reduce(0, +) / Float(recent.count)))
            if let monitor, monitorSteps.contains(step) {
                points.append(monitor.point(step, model: model, maxNewTokens: self.config.maxNewTokens))
                model.setTraining(true)
            }
        }
        var record = try evaluateStage(
            model: model, base: base, data: data, stageName: target, losses: report.losses,
            seconds: 0, samples: samplesDirectory(strategy: name, stage: k, target: target))
        record.trainableParameters = counts.trainable
        record.totalParameters = counts.total
        record.seconds = Date().timeIntervalSince(started)
        record.monitor = monitor == nil ? nil : points
        return record
    }

    /// Accuracy on every column (each benchmark's per-example log written under `samples`), the counting-bias
    /// probe, and (for tuned models) the layer-shift probe.
    func evaluateStage(
        model: any Backbone, base: (any Backbone)?, data: StudyData, stageName: String,
        losses: [Float], seconds: Double, samples: URL
    ) throws -> StageRecord {
        let columns = data.columns
        let progress = Progress("  eval \(stageName)", total: columns.count, unit: "benchmark")
        var accuracy: [Double] = []
        for (i, b) in columns.enumerated() {
            try Interruption.check("the evaluation of stage '\(stageName)' on \(b.name)")
            FaultInjection.point("evaluate \(stageName) \(b.name)")
            let examples = data.eval[b.name] ?? []
            let outcome = Evaluator.evaluate(model, on: b, examples: examples, maxNewTokens: config.maxNewTokens)
            try SampleLog.write(SampleLog.records(examples, outcome), benchmark: b.name, in: samples)
            accuracy.append(outcome.accuracy)
            progress.update(i + 1)
        }
        func requests(_ examples: [Example]) -> [GenerationRequest] {
            examples.map { Evaluator.request(for: $0, model: model) }
        }
        let bias = CountingBiasProbe.run(
            model, stage: stageName, heldOutPrompts: requests(data.probeCaptions),
            countingPrompts: requests(data.probeCounting), maxNewTokens: config.maxNewTokens)
        let shift = base.map {
            LayerShiftProbe.run(base: $0, tuned: model, examples: data.layerShiftExamples, stage: stageName)
        }
        return StageRecord(
            stage: stageName, accuracy: accuracy, countingBias: bias, layerShift: shift,
            loss: Self.stageLoss(losses, stage: stageName), trainableParameters: 0,
            totalParameters: model.parameterCounts.total, seconds: seconds)
    }

    /// The mean training loss of a stage and its curve over 10 windows (non-finite losses left out).
    static func stageLoss(_ losses: [Float], stage: String) -> StageLoss {
        let finite = losses.filter { $0.isFinite }.map(Double.init)
        let windows = min(10, finite.count)
        let curve = (0..<windows).map { w -> Double in
            let lo = finite.count * w / windows
            let hi = finite.count * (w + 1) / windows
            return finite[lo..<hi].reduce(0, +) / Double(max(1, hi - lo))
        }
        return StageLoss(
            stage: stage, mean: finite.isEmpty ? 0 : finite.reduce(0, +) / Double(finite.count), curve: curve)
    }

    // MARK: Metrics

    func studyMetrics(_ rows: [[Double]], data: StudyData) throws -> StudyMetrics {
        let targets = data.targetNames
        let m = try ContinualMetrics(
            accuracies: rows, benchmarks: targets + data.heldOutNames,
            targets: targets.enumerated().map { ContinualMetrics.Target(benchmark: $0.element, stage: $0.offset + 1) },
            heldOut: data.heldOutNames)
        return StudyMetrics(
            learning: m.learning, heldOutForgettingFinal: m.heldOutForgetting ?? 0,
            heldOutForgettingPerStage: m.heldOutChangePerStage, heldOutAveragePerStage: m.heldOutAveragePerStage,
            targetForgetting: m.targetForgetting, backwardTransfer: m.backwardTransfer ?? 0,
            chaudhryForgetting: m.chaudhryForgetting ?? 0, averageTargetAccuracy: m.averageAccuracy)
    }

    /// Metrics of an unfinished run: the held-out lines for the stages it reached, zeros elsewhere.
    static func emptyMetrics(_ rows: [[Double]], targets: Int, heldOut: Int) -> StudyMetrics {
        let heldOutColumns = targets..<(targets + heldOut)
        let averages = rows.map { row in
            heldOutColumns.map { row[$0] }.reduce(0, +) / Double(max(1, heldOutColumns.count))
        }
        return StudyMetrics(
            learning: 0, heldOutForgettingFinal: 0, heldOutForgettingPerStage: averages.map { $0 - averages[0] },
            heldOutAveragePerStage: averages, targetForgetting: 0, backwardTransfer: 0,
            chaudhryForgetting: 0, averageTargetAccuracy: 0)
    }

    func settingsRecord(base: BaseModelRecord, threads: Int) -> StudySettings {
        var settings = StudySettings(
            backbone: config.model == nil ? config.backbone : base.family,
            preset: config.model == nil ? config.preset : "checkpoint", seed: config.seed, threads: threads,
            targets: base.targets, heldOut: base.heldOut, stepsPerStage: config.training.steps,
            batchSize: config.training.batchSize, learningRate: config.training.learningRate,
            warmupFraction: config.training.warmupFraction, weightDecay: config.training.weightDecay,
            gradientClip: config.training.gradientClip, trainExamplesPerTarget: config.trainExamplesPerTarget,
            evalExamplesPerBenchmark: config.evalExamplesPerBenchmark, maxNewTokens: config.maxNewTokens,
            probeExamples: config.probeExamples, baseModel: URL(fileURLWithPath: base.directory).lastPathComponent)
        settings.model = config.model
        return settings
    }

    // MARK: Files

    func stageDirectory(_ strategyDirectory: URL, _ k: Int) -> URL {
        strategyDirectory.appendingPathComponent("stage-\(k)")
    }

    /// Strategy names become directory names: anything but letters, digits, '-', '_' and '.' becomes '_'.
    func safeName(_ name: String) -> String { safeFileName(name) }

    /// The study's settings file (`study.json`), written by its base phase.
    public var studyFile: URL { outputDirectory.appendingPathComponent("study.json") }

    /// Creates the output directory, or checks that it holds this same study when resuming; then removes the
    /// temporary files that killed writes on this host left under `leftovers` (the whole directory by default).
    func prepareOutputDirectory(leftovers: [URL]? = nil) throws {
        let fm = FileManager.default
        if !fm.fileExists(atPath: studyFile.path) {
            try fm.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
            // Created exclusively: of two runs started at once on one --out (two nodes of a cluster, say),
            // exactly one writes study.json; the other finds it below, as if it had been there.
            if try AtomicFile.create(try Self.settingsEncoder.encode(config), at: studyFile) { return }
        }
        guard resume else {
            throw HostError(
                "\(outputDirectory.path) already holds a comparison; pass --resume to continue it, or choose another --out"
            )
        }
        try checkStudyFile()
        // A killed run may have left the temporary file of an atomic write behind; it never replaced anything.
        let removed = (leftovers ?? [outputDirectory]).reduce(0) { $0 + AtomicFile.removeLeftovers(under: $1) }
        if removed > 0 { log("removed \(removed) temporary file(s) left by an interrupted write") }
    }

    static var settingsEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }

    /// Checks that `study.json` holds this study's settings.
    func checkStudyFile() throws {
        guard let theirs = FileManager.default.contents(atPath: studyFile.path) else {
            throw HostError("\(studyFile.path): missing (the study's base phase writes it)")
        }
        // (A study.json from before `evalData` existed has none: the same as an empty one.)
        var previous = try? JSONNesting.decode(StudyConfig.self, from: theirs, file: studyFile.path)
        if previous?.evalData == nil && config.evalData?.isEmpty != false { previous?.evalData = config.evalData }
        guard previous == config else {
            throw HostError(
                "\(studyFile.path): the comparison there was started with other settings; --resume needs the same command (or choose another --out)"
            )
        }
    }

    func stageRecord(at directory: URL) throws -> StageRecord? {
        let file = directory.appendingPathComponent("stage.json")
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        do {
            return try JSONNesting.decode(StageRecord.self, from: data, file: file.path)
        } catch {
            throw HostError(
                "\(file.path): unreadable stage record (\(error)); delete that stage directory to redo the stage")
        }
    }

    /// Saves a stage atomically: weights first, then the record that marks the stage finished.
    func saveStage(_ record: StageRecord, model: (any Backbone)?, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if let model {
            try SafeTensors.write(
                model.namedParameters().map { ($0.name, $0.tensor) }, metadata: ["stage": record.stage],
                to: directory.appendingPathComponent("model.safetensors"))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(record), to: directory.appendingPathComponent("stage.json"))
    }
}
