import Foundation
import Kernel

/// What `merge` found: the results (written unless cells are missing and a partial merge was not asked for),
/// the strategies whose cells have not finished, and warnings about cells that cannot be bit-identical.
public struct StudyMerge {
    /// The merged results; nil when the base phase has not finished (then every cell is missing).
    public var results: StudyResults?
    /// A cell: one strategy with one seed.
    public struct Cell: Equatable, Sendable {
        public var seed: UInt64
        public var strategy: String
        public init(seed: UInt64, strategy: String) {
            self.seed = seed
            self.strategy = strategy
        }
    }

    /// The cells without a finished result, in plan order.
    public var missing: [Cell]
    public var warnings: [String]
    /// Whether the result files were written.
    public var wrote: Bool
}

/// A study's phases run one at a time, as separate jobs of a cluster: the base once, then each cell (by
/// strategy) anywhere the output directory is shared, then the merge. Each is idempotent: run again, a finished
/// phase returns at once, and an interrupted cell resumes from its last finished stage.
extension Study {
    /// The base phase alone: creates (or checks) the output directory, pretrains or loads the base model (one per
    /// seed) and evaluates it once. Removes only its own leftovers (under `checkpoints/base` and `samples/base`).
    @discardableResult
    public func runBasePhase() throws -> [BaseModelRecord] {
        guard config.seedList.count == 1 else {
            try validate()
            try prepareOutputDirectory(leftovers: [])
            return try config.seedList.flatMap { try seedStudy($0).runBasePhase() }
        }
        return [
            try prepareBase(
                startedAt: Date(), leftovers: [baseDirectory, samplesDirectory.appendingPathComponent("base")]
            ).record
        ]
    }

    /// The cell of strategy `name` alone, from the base phase's base model; a finished cell (complete or failed)
    /// returns its record at once. Removes only its own leftovers (its checkpoint and sample directories), so
    /// cells running at once on other nodes are never touched.
    @discardableResult
    public func runCell(named name: String) throws -> CellRecord {
        guard config.strategies.contains(name) else {
            throw HostError(
                "strategy '\(name)' is not a cell of this study (cells: \(config.strategies.joined(separator: ", ")))")
        }
        if let done = try readCell(name) {
            log("\(name): cell already finished (\(done.result.status)); \(cellFile(name).path)")
            return done
        }
        let base = try openBase()
        let own = [cellDirectory(name), samplesDirectory.appendingPathComponent(safeName(name))]
        let removed = own.reduce(0) { $0 + AtomicFile.removeLeftovers(under: $1) }
        if removed > 0 { log("\(name): removed \(removed) temporary file(s) an interrupted write of this cell left") }
        return try runCell(name, base: base, retryFailed: false)
    }

    /// Gathers the finished cells into `results.json`, `results.csv` and `report.html`, the same files a
    /// single-machine run writes (byte for byte, apart from `timings`, when the cells ran with the same threads
    /// and arithmetic). With missing cells it writes nothing unless `allowPartial`, and then lists them with
    /// status "missing". With several seeds, each seed's directory is merged, then the seeds are combined.
    @discardableResult
    public func merge(allowPartial: Bool) throws -> StudyMerge {
        let seeds = config.seedList
        guard seeds.count > 1 else { return try mergeOneSeed(allowPartial: allowPartial) }
        try checkStudyFile()
        var merges: [(seed: UInt64, merge: StudyMerge)] = []
        for seed in seeds { merges.append((seed, try seedStudy(seed).mergeOneSeed(allowPartial: allowPartial))) }
        let missing = merges.flatMap(\.merge.missing)
        let warnings = Array(Set(merges.flatMap(\.merge.warnings))).sorted()
        let runs = merges.compactMap { m in m.merge.results.map { (seed: m.seed, results: $0) } }
        guard runs.count == seeds.count else {
            return StudyMerge(results: nil, missing: missing, warnings: warnings, wrote: false)
        }
        let combined = try SeedAggregate.combine(runs)
        let write = missing.isEmpty || allowPartial
        if write { try ResultFiles.write(combined, to: outputDirectory) }
        return StudyMerge(results: combined, missing: missing, warnings: warnings, wrote: write)
    }

    func mergeOneSeed(allowPartial: Bool) throws -> StudyMerge {
        try checkStudyFile()
        guard let base = try readBaseRecord(), let baseStage = try stageRecord(at: baseDirectory) else {
            let missing = config.strategies.map { StudyMerge.Cell(seed: config.seed, strategy: $0) }
            return StudyMerge(results: nil, missing: missing, warnings: [], wrote: false)
        }
        var cells: [CellRecord] = []
        var missing: [String] = []
        for name in config.strategies {
            if let cell = try readCell(name) {
                cells.append(cell)
            } else {
                missing.append(name)
                cells.append(try missingCell(name, base: base, baseStage: baseStage))
            }
        }
        let finished = cells.filter { !missing.contains($0.result.name) }
        let started = ISO8601DateFormatter().date(from: base.startedAt) ?? Date()
        let results = assemble(
            base: base, cells: cells, threads: finished.first?.threads ?? Parallel.threads,
            startedAt: base.startedAt, totalSeconds: max(0, Date().timeIntervalSince(started)))
        let write = missing.isEmpty || allowPartial
        if write { try ResultFiles.write(results, to: outputDirectory) }
        return StudyMerge(
            results: results, missing: missing.map { StudyMerge.Cell(seed: config.seed, strategy: $0) },
            warnings: Self.warnings(finished), wrote: write)
    }

    /// Why finished cells may differ from one machine's run: several hosts, thread counts or arithmetics.
    static func warnings(_ cells: [CellRecord]) -> [String] {
        func distinct(_ values: [String]) -> [String] { Array(Set(values)).sorted() }
        var out: [String] = []
        let hosts = distinct(cells.map(\.host))
        if hosts.count > 1 {
            out.append(
                "cells ran on \(hosts.count) hosts (\(hosts.joined(separator: ", "))): results match one machine's "
                    + "bit for bit only where their CPUs use the same threads and arithmetic")
        }
        let threads = distinct(cells.map { "\($0.threads)" })
        if threads.count > 1 {
            out.append(
                "cells ran with different thread counts (\(threads.joined(separator: ", "))): their bits may differ "
                    + "from a run with one count (results.json records the first cell's)")
        }
        let arithmetic = distinct(cells.map(\.arithmetic))
        if arithmetic.count > 1 {
            out.append(
                "cells ran with different GEMM arithmetic (\(arithmetic.joined(separator: ", "))): fused and separate "
                    + "multiply-adds round differently (pin it with SKILLTUNE_GEMM_FMA=0 or 1)")
        }
        return out
    }

    /// The placeholder of a cell that has not finished: the base row only, status "missing".
    func missingCell(_ name: String, base: BaseModelRecord, baseStage: StageRecord) throws -> CellRecord {
        let options = (try? registries.strategy(name, options: config.strategyOptions[name] ?? [:]).options) ?? []
        let result = StrategyResult(
            name: name, summary: (try? registries.strategies.entry(named: name).summary) ?? "", options: options,
            trainableParameters: 0, totalParameters: baseStage.totalParameters, status: "missing",
            failure: "its cell has not finished (see logs/ for its job)", accuracy: [baseStage.accuracy],
            metrics: Self.emptyMetrics([baseStage.accuracy], targets: base.targets.count, heldOut: base.heldOut.count),
            countingBias: [baseStage.countingBias], layerShift: [], trainingLoss: [])
        return CellRecord(result: result, seconds: 0, host: "", threads: 0, arithmetic: "")
    }
}
