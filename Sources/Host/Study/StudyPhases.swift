import Foundation
import Kernel

/// The base phase's record (`checkpoints/base/base.json`): where the base model is, so that every cell (in this
/// process or on another node of a cluster) loads that one and none builds it again.
public struct BaseModelRecord: Codable, Equatable, Sendable {
    /// The base model's directory: the checkpoint studied, or the pretrained base in the cache.
    public var directory: String
    /// The model family (`Backbone.family`).
    public var family: String
    /// Seconds the base phase spent pretraining (0 when the base was cached or a checkpoint).
    public var pretrainSeconds: Double
    /// When the base phase started (ISO 8601).
    public var startedAt: String
    /// The stage and column names of the targets, then of the held-out benchmarks.
    public var targets: [String]
    public var heldOut: [String]
    /// The host the base phase ran on (`TemporaryOwner.hostTag`).
    public var host: String
}

/// A finished cell of a study (`checkpoints/<strategy>/result.json`): one strategy's result and where it ran.
public struct CellRecord: Codable, Equatable {
    public var result: StrategyResult
    /// Seconds its stages took.
    public var seconds: Double
    /// The host (`TemporaryOwner.hostTag`), kernel threads and GEMM arithmetic it ran with: results agree bit for
    /// bit between cells only when threads and arithmetic do.
    public var host: String
    public var threads: Int
    public var arithmetic: String
}

/// A study's base, ready for its cells: the data, the base model and its evaluated record.
struct PreparedBase {
    var data: StudyData
    var model: any Backbone
    var record: BaseModelRecord
    var stage: StageRecord
    var directory: URL { URL(fileURLWithPath: record.directory) }
}

/// The three phases a study is made of, which `run` chains in one process and a cluster runs as separate jobs:
/// the base (output directory, base model, its evaluation), one cell per strategy, and the assembly of the cells'
/// records into `StudyResults` (`merge`).
extension Study {
    var baseDirectory: URL { checkpoints.appendingPathComponent("base") }
    var baseRecordFile: URL { baseDirectory.appendingPathComponent("base.json") }

    /// The directory of one strategy's cell (its stage checkpoints and `result.json`).
    public func cellDirectory(_ strategy: String) -> URL { checkpoints.appendingPathComponent(safeName(strategy)) }
    func cellFile(_ strategy: String) -> URL { cellDirectory(strategy).appendingPathComponent("result.json") }

    /// The base phase: creates (or checks) the output directory, loads or pretrains the base model, evaluates it
    /// once and writes `base.json`. Run again it finds all of that done and only loads the model.
    /// `leftovers`: where to remove temporary files killed writes left (nil: the whole output directory).
    func prepareBase(startedAt: Date, leftovers: [URL]? = nil) throws -> PreparedBase {
        try validate()
        let data = try StudyData(config: config, registries: registries)
        try prepareOutputDirectory(leftovers: leftovers)
        let (model, directory, seconds) = try BaseModel.load(
            config: config, data: data, registries: registries, log: log)
        try checkMemory(base: model, data: data)
        let stage = try baseStageRecord(model, data: data)
        var record = BaseModelRecord(
            directory: directory.path, family: model.family, pretrainSeconds: seconds,
            startedAt: ISO8601DateFormatter().string(from: startedAt), targets: data.targetNames,
            heldOut: data.heldOutNames, host: TemporaryOwner.hostTag)
        if let earlier = try readBaseRecord(), earlier.directory == record.directory {
            record = earlier
        } else {
            try AtomicFile.write(try Self.settingsEncoder.encode(record), to: baseRecordFile)
        }
        return PreparedBase(data: data, model: model, record: record, stage: stage)
    }

    /// The base as a cell finds it: what the base phase wrote, checked, and the base model loaded from it. Never
    /// pretrains or evaluates: a missing base is an error naming the command that makes it.
    func openBase() throws -> PreparedBase {
        try validate()
        let data = try StudyData(config: config, registries: registries)
        try checkStudyFile()
        guard let record = try readBaseRecord(), let stage = try stageRecord(at: baseDirectory) else {
            throw HostError(
                "\(baseRecordFile.path): missing: the study's base phase has not finished (its job pretrains or loads "
                    + "the base model and evaluates it once: skilltune cell --plan \(outputDirectory.path)/plan.json --base)"
            )
        }
        guard FileManager.default.fileExists(atPath: record.directory) else {
            throw HostError(
                "the base model directory \(record.directory) (written by the base phase on host \(record.host)) is not "
                    + "visible on this host (\(TemporaryOwner.hostTag)): on a cluster, the base model must be on the shared "
                    + "filesystem (set SKILLTUNE_CACHE to a shared directory before the base job runs)")
        }
        let model = try registries.loadBackbone(directory: URL(fileURLWithPath: record.directory))
        try (config.chatTemplate ?? .auto).apply(to: model)
        return PreparedBase(data: data, model: model, record: record, stage: stage)
    }

    /// Whether the base phase has finished (its record and the base's evaluation are written).
    public var baseFinished: Bool {
        FileManager.default.fileExists(atPath: baseRecordFile.path)
            && FileManager.default.fileExists(atPath: baseDirectory.appendingPathComponent("stage.json").path)
    }

    func readBaseRecord() throws -> BaseModelRecord? {
        guard let bytes = FileManager.default.contents(atPath: baseRecordFile.path) else { return nil }
        do { return try JSONNesting.decode(BaseModelRecord.self, from: bytes, file: baseRecordFile.path) } catch {
            throw HostError("\(baseRecordFile.path): unreadable base record (\(error)); rerun the base phase")
        }
    }

    /// One cell: trains (or resumes) one strategy and writes its `result.json`. A cell whose strategy already
    /// finished returns its record at once; one whose strategy failed (its training diverged, say) is tried again
    /// when `retryFailed`.
    func runCell(_ name: String, base: PreparedBase, retryFailed: Bool = true) throws -> CellRecord {
        if let done = try readCell(name), !retryFailed || done.result.status == "complete" {
            log("\(name): already finished (\(cellFile(name).path))")
            return done
        }
        FaultInjection.point("cell \(name)")
        let (result, seconds) = try runStrategy(
            name, base: base.model, baseDirectory: base.directory, baseRecord: base.stage, data: base.data)
        let cell = CellRecord(
            result: result, seconds: seconds, host: TemporaryOwner.hostTag, threads: Parallel.threads,
            arithmetic: GemmArithmetic.active.rawValue)
        // (A strategy that failed before its first stage has no directory yet.)
        try FileManager.default.createDirectory(at: cellDirectory(name), withIntermediateDirectories: true)
        try AtomicFile.write(try Self.settingsEncoder.encode(cell), to: cellFile(name))
        return cell
    }

    /// The record of a finished cell, nil when it has not finished.
    public func readCell(_ name: String) throws -> CellRecord? {
        let file = cellFile(name)
        guard let bytes = FileManager.default.contents(atPath: file.path) else { return nil }
        do { return try JSONNesting.decode(CellRecord.self, from: bytes, file: file.path) } catch {
            throw HostError("\(file.path): unreadable cell record (\(error)); delete it to run that cell again")
        }
    }

    /// The study's results from the base record and the cells' records (in `config.strategies` order).
    func assemble(
        base: BaseModelRecord, cells: [CellRecord], threads: Int, startedAt: String, totalSeconds: Double
    ) -> StudyResults {
        StudyResults(
            settings: settingsRecord(base: base, threads: threads),
            benchmarks: base.targets.map { BenchmarkInfo(name: $0, role: "target") }
                + base.heldOut.map { BenchmarkInfo(name: $0, role: "held-out") },
            stages: ["base"] + base.targets, strategies: cells.map(\.result),
            timings: Timings(
                startedAt: startedAt, totalSeconds: totalSeconds, pretrainSeconds: base.pretrainSeconds,
                strategySeconds: Dictionary(cells.map { ($0.result.name, $0.seconds) }) { a, _ in a }))
    }
}
