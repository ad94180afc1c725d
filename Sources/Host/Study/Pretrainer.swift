import Foundation
import Kernel

/// Trains the base model of a study (every parameter) on the held-out abilities, the captions and a small
/// share of each target, and caches it by everything that determines it.
public enum Pretrainer {
    /// Trains every parameter; the strategy used for pretraining.
    final class AllParameters: TuningStrategy {
        let weighting: AnswerLossWeighting
        init(weighting: AnswerLossWeighting) { self.weighting = weighting }
        var name: String { "pretrain" }
        var options: [StrategyOption] { [] }
        func prepare(_ model: any Backbone, stage: StageContext) throws { model.setTrainable { _ in true } }
        func loss(_ model: any Backbone, batch: Batch, stage: StageContext) -> Tensor {
            answerCrossEntropy(model, batch, weighting: weighting)
        }
    }

    /// The pretraining examples (held-out + caption train splits, dense descriptions of the held-out pictures,
    /// plus a few of each target).
    public static func examples(config: StudyConfig, data: StudyData) throws -> [Example] {
        let p = config.pretraining
        var pool: [Example] = []
        for b in data.heldOut + [data.caption].compactMap({ $0 }) {
            pool += try b.examples(.train, count: p.examplesPerBenchmark, seed: config.seed)
        }
        if p.descriptionsPerBenchmark > 0 {
            for b in data.heldOut {
                pool += try b.descriptionExamples(.train, count: p.descriptionsPerBenchmark, seed: config.seed)
            }
        }
        // A different seed from the study's train split, so stage data is new to the base model.
        let targetSeed = config.seed &+ 0x5EED
        if p.descriptionsPerTarget > 0 {
            for b in data.targets {
                pool += try b.descriptionExamples(.train, count: p.descriptionsPerTarget, seed: targetSeed)
            }
        }
        if p.examplesPerTarget > 0 {
            for b in data.targets {
                pool += try b.examples(.train, count: p.examplesPerTarget, seed: targetSeed)
            }
        }
        return pool
    }

    /// Where the base model of this configuration is cached; its last component also names a shipped base.
    public static func cacheDirectory(config: StudyConfig, vocabulary: [String]) -> URL {
        struct Key: Codable {
            var backbone: String, preset: String, seed: UInt64, pretraining: PretrainSettings
            var heldOut: [String], caption: String, targets: [String], vocabulary: [String], version: Int
        }
        // Versions: 2: fan-in vision init, pretraining lr 5e-4; 3: descriptions, task layouts; 4: focused
        // descriptions, per-example loss, tied small head, real-world layout and sides; 5: GEMM k blocks of 256 and
        // FMA where the build has it, the fused lm_head + loss; 6 (an experiment) and 7: dense descriptions of the
        // targets' pictures, scene-text on the patch grid, counts to 6 beside at most one other shape; 8: counts of
        // circles and crosses drawn at 7.5 units.
        let key = Key(
            backbone: config.backbone, preset: config.preset, seed: config.seed, pretraining: config.pretraining,
            heldOut: config.heldOut, caption: config.captionBenchmark, targets: config.targets,
            vocabulary: vocabulary, version: 8)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = (try? encoder.encode(key)) ?? Data()
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return cacheRoot.appendingPathComponent("base")
            .appendingPathComponent("\(config.backbone)-\(config.preset)-seed\(config.seed)-\(String(h, radix: 16))")
    }

    /// `SKILLTUNE_CACHE`, else `$XDG_CACHE_HOME/skilltune`, else `~/.cache/skilltune`.
    public static var cacheRoot: URL {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["SKILLTUNE_CACHE"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("skilltune")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/skilltune")
    }

    /// The base model: loaded from the cache, or the one shipped with SkillTune (`ShippedBase`), or pretrained
    /// (with progress) and cached atomically.
    /// - Returns: the model, its directory, and the seconds spent pretraining (0 when cached or shipped).
    /// - Parameters:
    ///   - fresh: pretrain even when a cached or shipped base exists (the new one replaces the cached one).
    ///   - evaluateEvery: when > 0 and the base is trained here, `evaluate` is called with the step number and the
    ///     model after every `evaluateEvery` steps (a learning curve of the base; the model is in eval mode then
    ///     and is put back to training mode after).
    public static func baseModel(
        config: StudyConfig, data: StudyData, registries: SkillTuneRegistries,
        evaluateEvery: Int = 0, evaluate: ((Int, any Backbone) -> Void)? = nil, fresh: Bool = false,
        log: (String) -> Void
    ) throws -> (model: any Backbone, directory: URL, seconds: Double) {
        let pool = try examples(config: config, data: data)
        let vocabulary = StudyData.vocabulary(
            of: [pool] + Array(data.train.values) + Array(data.eval.values)
                + [data.probeCaptions, data.probeCounting],
            benchmarks: data.columns + [data.caption].compactMap { $0 })
        let directory = cacheDirectory(config: config, vocabulary: vocabulary)
        let factory = try registries.backbones.make(config.backbone)
        if !fresh, FileManager.default.fileExists(atPath: directory.appendingPathComponent("model.safetensors").path) {
            log("base model: cached at \(directory.path)")
            return (try factory.load(directory), directory, 0)
        }
        if !fresh, let shipped = ShippedBase.directory(named: directory.lastPathComponent) {
            log("base model: shipped with SkillTune (\(directory.lastPathComponent)), no pretraining")
            return (try factory.load(shipped), shipped, 0)
        }
        let started = Date()
        let model = try factory.create(config.preset, config.seed, vocabulary)
        let counts = model.parameterCounts
        log(
            "pretraining the base model: \(config.backbone) \(config.preset), \(counts.total) parameters, "
                + "\(config.pretraining.steps) steps of \(config.pretraining.batchSize) over \(pool.count) examples")
        var schedule = BatchSchedule(
            examples: pool, batchSize: config.pretraining.batchSize,
            generator: RandomGenerator(seed: config.seed).fork("pretrain.order"))
        let settings = TrainingSettings(
            steps: config.pretraining.steps, batchSize: config.pretraining.batchSize,
            learningRate: config.pretraining.learningRate, warmupFraction: 0.05)
        let progress = Progress("pretrain", total: settings.steps)
        var recent: [Float] = []
        _ = try StageTrainer.run(
            model: model, strategy: AllParameters(weighting: config.pretraining.lossWeighting),
            stage: StageContext(index: 0, name: "pretrain", totalSteps: settings.steps, seed: config.seed),
            settings: settings, batch: { _ in makeBatch(model, schedule.next()) }
        ) { step, loss, _ in
            recent.append(loss)
            if recent.count > 50 { recent.removeFirst() }
            progress.update(step, detail: String(format: "loss %.3f", recent.reduce(0, +) / Float(recent.count)))
            if evaluateEvery > 0, step % evaluateEvery == 0, step < settings.steps, let evaluate {
                evaluate(step, model)
                model.setTraining(true)
            }
        }
        // Write to a temporary directory, then rename: a half-written base is never mistaken for a cached one.
        let parent = directory.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        removeAbandonedTemporaryDirectories(of: directory)
        let temporary = parent.appendingPathComponent(".tmp-\(directory.lastPathComponent)-\(TemporaryOwner.current)")
        try? FileManager.default.removeItem(at: temporary)
        try model.save(to: temporary)
        if FileManager.default.fileExists(atPath: directory.path) { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.moveItem(at: temporary, to: directory)
        let seconds = Date().timeIntervalSince(started)
        log("base model: pretrained in \(Progress.formatDuration(seconds)), cached at \(directory.path)")
        return (model, directory, seconds)
    }

    /// Deletes `.tmp-<name>-<host>-<pid>` directories (or the older `.tmp-<name>-<pid>`) beside `directory` that
    /// a killed pretraining left: written on this host by a process that is gone. Another host's (a live
    /// pretraining on another node of a shared filesystem) are left alone.
    static func removeAbandonedTemporaryDirectories(of directory: URL) {
        let parent = directory.deletingLastPathComponent()
        let prefix = ".tmp-\(directory.lastPathComponent)-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            let fields = name.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
            guard let owner = TemporaryOwner.parse(fields), owner.isAbandoned else { continue }
            try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
        }
    }
}
