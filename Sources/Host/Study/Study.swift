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
}

/// The sequential fine-tuning study: every strategy starts from the same base model and learns the target
/// skills one stage after another; after the base and after every stage, every target and held-out
/// benchmark is evaluated greedily and both probes run.
///
/// Files under `outputDirectory`: `study.json` (the settings), `checkpoints/<strategy>/stage-<k>/`
/// (`stage.json`, and `model.safetensors` for the newest stage), then `results.json`, `results.csv` and
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

    /// Checks every name and setting before any work starts.
    public func validate() throws {
        let problems = config.problems()
        guard problems.isEmpty else { throw HostError("bad settings: " + problems.joined(separator: "; ")) }
        _ = try registries.backbones.entry(named: config.backbone)
        for name in config.targets + config.heldOut + [config.captionBenchmark, config.countingBenchmark] {
            _ = try registries.benchmarks.entry(named: name)
        }
        for name in config.strategies {
            _ = try registries.strategy(name, options: config.strategyOptions[name] ?? [:])
        }
        for b in config.targets + config.heldOut {
            let role = try registries.benchmark(b).role
            let expected: BenchmarkRole = config.targets.contains(b) ? .target : .heldOut
            if role != expected && role != .auxiliary {
                log("note: benchmark '\(b)' is registered as \(role.rawValue) but used as \(expected.rawValue) here")
            }
        }
    }

    /// Runs (or resumes) the comparison and writes the result files.
    @discardableResult
    public func run() throws -> StudyResults {
        let started = Date()
        try validate()
        try prepareOutputDirectory()
        let data = try StudyData(config: config, registries: registries)
        let (base, baseDirectory, pretrainSeconds) = try Pretrainer.baseModel(config: config, data: data, registries: registries, log: log)

        let baseRecord = try stageRecord(at: checkpoints.appendingPathComponent("base")) ?? {
            log("evaluating the base model on \(data.columns.count) benchmarks")
            let record = try evaluateStage(model: base, base: nil, data: data, stageName: "base", losses: [], seconds: 0)
            try saveStage(record, model: nil, to: checkpoints.appendingPathComponent("base"))
            return record
        }()

        var results: [StrategyResult] = []
        var seconds: [String: Double] = [:]
        for name in config.strategies {
            try Interruption.check("the start of strategy '\(name)'")
            let (result, spent) = try runStrategy(name, base: base, baseDirectory: baseDirectory, baseRecord: baseRecord, data: data)
            results.append(result)
            seconds[name] = spent
        }

        let formatter = ISO8601DateFormatter()
        let study = StudyResults(
            settings: settingsRecord(baseDirectory: baseDirectory),
            benchmarks: data.columns.map { BenchmarkInfo(name: $0.name, role: config.targets.contains($0.name) ? "target" : "held-out") },
            stages: ["base"] + config.targets, strategies: results,
            timings: Timings(startedAt: formatter.string(from: started), totalSeconds: Date().timeIntervalSince(started),
                             pretrainSeconds: pretrainSeconds, strategySeconds: seconds))
        try ResultFiles.write(study, to: outputDirectory)
        return study
    }

    // MARK: One strategy

    func runStrategy(_ name: String, base: any Backbone, baseDirectory: URL, baseRecord: StageRecord,
                     data: StudyData) throws -> (StrategyResult, Double) {
        let options = config.strategyOptions[name] ?? [:]
        let strategy = try registries.strategy(name, options: options)
        let summary = (try? registries.strategies.entry(named: name).summary) ?? ""
        let directory = checkpoints.appendingPathComponent(safeName(name))
        var records: [StageRecord] = []
        for (k, target) in config.targets.enumerated() {
            guard let record = try stageRecord(at: stageDirectory(directory, k + 1)), record.stage == target else { break }
            records.append(record)
        }
        // Resume from the newest finished stage whose weights are still there (only the newest weights are
        // kept); stages after it are recomputed, which gives the same results since training is deterministic.
        func hasWeights(_ stage: Int) -> Bool {
            FileManager.default.fileExists(atPath: stageDirectory(directory, stage).appendingPathComponent("model.safetensors").path)
        }
        while !records.isEmpty && !hasWeights(records.count) { records.removeLast() }
        var failure: String?
        var spent = records.reduce(0) { $0 + $1.seconds }
        if records.count < config.targets.count {
            let model = try registries.backbones.make(config.backbone).load(baseDirectory)
            if !records.isEmpty {
                let k = records.count
                try strategy.installModules(model, stage: context(k))
                let weights = stageDirectory(directory, k).appendingPathComponent("model.safetensors")
                let file = try SafeTensorsFile(url: weights)
                try MemoryBudget.check(float32Bytes: file.float32ByteCount, what: "the weights of \(weights.path)")
                try model.load(try file.tensorsByName(), source: weights.path)
                log("\(name): resuming after stage \(k) (\(config.targets[k - 1]))")
            }
            for k in (records.count + 1)...config.targets.count {
                do {
                    let record = try trainStage(k, strategy: strategy, name: name, model: model, base: base, data: data)
                    try saveStage(record, model: model, to: stageDirectory(directory, k))
                    if k > 1 { try? FileManager.default.removeItem(at: stageDirectory(directory, k - 1).appendingPathComponent("model.safetensors")) }
                    records.append(record)
                    spent += record.seconds
                } catch let error as TrainingError {
                    failure = "\(error)"
                    log("\(name): FAILED: \(error); the last good checkpoint is kept, the other strategies go on")
                    break
                }
            }
        } else {
            log("\(name): all \(records.count) stages already finished")
        }

        let rows = [baseRecord.accuracy] + records.map(\.accuracy)
        let metrics = failure == nil ? try studyMetrics(rows) : emptyMetrics(rows)
        let first = records.first
        return (StrategyResult(
            name: name, summary: summary, options: strategy.options,
            trainableParameters: first?.trainableParameters ?? 0, totalParameters: first?.totalParameters ?? base.parameterCounts.total,
            status: failure == nil ? "complete" : "failed", failure: failure, accuracy: rows, metrics: metrics,
            countingBias: [baseRecord.countingBias] + records.map(\.countingBias),
            layerShift: records.compactMap(\.layerShift), trainingLoss: records.map(\.loss)), spent)
    }

    func context(_ k: Int) -> StageContext {
        StageContext(index: k, name: config.targets[k - 1], totalSteps: config.training.steps, seed: config.seed)
    }

    /// Trains stage k, then evaluates and probes the result.
    func trainStage(_ k: Int, strategy: any TuningStrategy, name: String, model: any Backbone, base: any Backbone,
                    data: StudyData) throws -> StageRecord {
        let target = config.targets[k - 1]
        let started = Date()
        var schedule = BatchSchedule(examples: data.train[target] ?? [], batchSize: config.training.batchSize,
                                     generator: RandomGenerator(seed: config.seed).fork("stage.\(k).\(target)"))
        let progress = Progress("\(name) \(k)/\(config.targets.count) \(target)", total: config.training.steps)
        var counts = (trainable: 0, total: 0)
        var recent: [Float] = []
        let report = try StageTrainer.run(model: model, strategy: strategy, stage: context(k), settings: config.training,
                                          batch: { step in
            if step == 0 { counts = model.parameterCounts }
            return makeBatch(model, schedule.next())
        }) { step, loss, _ in
            recent.append(loss)
            if recent.count > 20 { recent.removeFirst() }
            progress.update(step, detail: String(format: "loss %.3f", recent.reduce(0, +) / Float(recent.count)))
        }
        var record = try evaluateStage(model: model, base: base, data: data, stageName: target, losses: report.losses,
                                   seconds: 0)
        record.trainableParameters = counts.trainable
        record.totalParameters = counts.total
        record.seconds = Date().timeIntervalSince(started)
        return record
    }

    /// Accuracy on every column, the counting-bias probe, and (for tuned models) the layer-shift probe.
    func evaluateStage(model: any Backbone, base: (any Backbone)?, data: StudyData, stageName: String,
                       losses: [Float], seconds: Double) throws -> StageRecord {
        let columns = data.columns
        let progress = Progress("  eval \(stageName)", total: columns.count, unit: "benchmark")
        var accuracy: [Double] = []
        for (i, b) in columns.enumerated() {
            try Interruption.check("the evaluation of stage '\(stageName)' on \(b.name)")
            FaultInjection.point("evaluate \(stageName) \(b.name)")
            accuracy.append(Evaluator.evaluate(model, on: b, examples: data.eval[b.name] ?? [],
                                               maxNewTokens: config.maxNewTokens).accuracy)
            progress.update(i + 1)
        }
        func requests(_ examples: [Example]) -> [GenerationRequest] { examples.map { Evaluator.request(for: $0, model: model) } }
        let bias = CountingBiasProbe.run(model, stage: stageName, heldOutPrompts: requests(data.probeCaptions),
                                         countingPrompts: requests(data.probeCounting), maxNewTokens: config.maxNewTokens)
        let shift = base.map { LayerShiftProbe.run(base: $0, tuned: model, examples: data.layerShiftExamples, stage: stageName) }
        let finite = losses.filter { $0.isFinite }.map(Double.init)
        let windows = min(10, finite.count)
        let curve = (0..<windows).map { w -> Double in
            let lo = finite.count * w / windows, hi = finite.count * (w + 1) / windows
            return finite[lo..<hi].reduce(0, +) / Double(max(1, hi - lo))
        }
        return StageRecord(stage: stageName, accuracy: accuracy, countingBias: bias, layerShift: shift,
                           loss: StageLoss(stage: stageName, mean: finite.isEmpty ? 0 : finite.reduce(0, +) / Double(finite.count), curve: curve),
                           trainableParameters: 0, totalParameters: model.parameterCounts.total, seconds: seconds)
    }

    // MARK: Metrics

    func studyMetrics(_ rows: [[Double]]) throws -> StudyMetrics {
        let names = config.targets + config.heldOut
        let m = try ContinualMetrics(accuracies: rows, benchmarks: names,
                                     targets: config.targets.enumerated().map { ContinualMetrics.Target(benchmark: $0.element, stage: $0.offset + 1) },
                                     heldOut: config.heldOut)
        return StudyMetrics(
            learning: m.learning, heldOutForgettingFinal: m.heldOutForgetting ?? 0,
            heldOutForgettingPerStage: m.heldOutChangePerStage, heldOutAveragePerStage: m.heldOutAveragePerStage,
            targetForgetting: m.targetForgetting, backwardTransfer: m.backwardTransfer ?? 0,
            chaudhryForgetting: m.chaudhryForgetting ?? 0, averageTargetAccuracy: m.averageAccuracy)
    }

    /// Metrics of an unfinished run: the held-out lines for the stages it reached, zeros elsewhere.
    func emptyMetrics(_ rows: [[Double]]) -> StudyMetrics {
        let heldOutColumns = config.targets.count..<(config.targets.count + config.heldOut.count)
        let averages = rows.map { row in heldOutColumns.map { row[$0] }.reduce(0, +) / Double(max(1, heldOutColumns.count)) }
        return StudyMetrics(learning: 0, heldOutForgettingFinal: 0, heldOutForgettingPerStage: averages.map { $0 - averages[0] },
                            heldOutAveragePerStage: averages, targetForgetting: 0, backwardTransfer: 0,
                            chaudhryForgetting: 0, averageTargetAccuracy: 0)
    }

    func settingsRecord(baseDirectory: URL) -> StudySettings {
        StudySettings(
            backbone: config.backbone, preset: config.preset, seed: config.seed, threads: Parallel.threads,
            targets: config.targets, heldOut: config.heldOut, stepsPerStage: config.training.steps,
            batchSize: config.training.batchSize, learningRate: config.training.learningRate,
            warmupFraction: config.training.warmupFraction, weightDecay: config.training.weightDecay,
            gradientClip: config.training.gradientClip, trainExamplesPerTarget: config.trainExamplesPerTarget,
            evalExamplesPerBenchmark: config.evalExamplesPerBenchmark, maxNewTokens: config.maxNewTokens,
            probeExamples: config.probeExamples, baseModel: baseDirectory.lastPathComponent)
    }

    // MARK: Files

    func stageDirectory(_ strategyDirectory: URL, _ k: Int) -> URL {
        strategyDirectory.appendingPathComponent("stage-\(k)")
    }

    /// Strategy names become directory names: anything but letters, digits, '-', '_' and '.' becomes '_'.
    func safeName(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
    }

    /// Creates the output directory, or checks that it holds this same study when resuming.
    func prepareOutputDirectory() throws {
        let fm = FileManager.default
        let studyFile = outputDirectory.appendingPathComponent("study.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let mine = try encoder.encode(config)
        if fm.fileExists(atPath: studyFile.path) {
            guard resume else {
                throw HostError("\(outputDirectory.path) already holds a comparison; pass --resume to continue it, or choose another --out")
            }
            let theirs = try Data(contentsOf: studyFile)
            guard let previous = try? JSONNesting.decode(StudyConfig.self, from: theirs, file: studyFile.path), previous == config else {
                throw HostError("\(studyFile.path): the comparison there was started with other settings; --resume needs the same command (or choose another --out)")
            }
            // A killed run may have left the temporary file of an atomic write behind; it never replaced anything.
            let removed = AtomicFile.removeLeftovers(under: outputDirectory)
            if removed > 0 { log("removed \(removed) temporary file(s) left by an interrupted write") }
            return
        }
        try fm.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        try AtomicFile.write(mine, to: studyFile)
    }

    func stageRecord(at directory: URL) throws -> StageRecord? {
        let file = directory.appendingPathComponent("stage.json")
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        do {
            return try JSONNesting.decode(StageRecord.self, from: data, file: file.path)
        } catch {
            throw HostError("\(file.path): unreadable stage record (\(error)); delete that stage directory to redo the stage")
        }
    }

    /// Saves a stage atomically: weights first, then the record that marks the stage finished.
    func saveStage(_ record: StageRecord, model: (any Backbone)?, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if let model {
            try SafeTensors.write(model.namedParameters().map { ($0.name, $0.tensor) }, metadata: ["stage": record.stage],
                                  to: directory.appendingPathComponent("model.safetensors"))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(record), to: directory.appendingPathComponent("stage.json"))
    }
}
