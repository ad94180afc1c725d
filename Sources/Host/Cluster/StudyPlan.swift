import Foundation
import Kernel

/// A study laid out as independent cells for a cluster (`OUT/plan.json`): the settings, and one cell per
/// strategy and seed in the order a single-machine `compare` runs them (seed by seed). A job runs the base once (`skilltune cell --base`),
/// an array runs the cells (`skilltune cell --index N`, one per task), and `skilltune merge` gathers them into the
/// same result files `compare` writes. The plan's directory is the study's output directory.
///
///     {"version": 1, "settings": {...study.json...}, "cells": [{"index": 0, "strategy": "sa-proj", "seed": 0}, ...],
///      "executable": "/shared/bin/skilltune", "slurm": {"cpusPerTask": 2, ...}}
public struct StudyPlan: Codable, Equatable, Sendable {
    /// One cell: a strategy trained through every stage from its seed's base.
    public struct Cell: Codable, Equatable, Sendable {
        public var index: Int
        public var strategy: String
        public var seed: UInt64
    }

    public static let fileName = "plan.json"
    public static let currentVersion = 1
    /// The largest plan file read (bytes).
    public static let maximumSize: Int64 = 16 << 20

    public var version: Int
    public var settings: StudyConfig
    public var cells: [Cell]
    /// The `skilltune` the jobs run (an absolute path, on the shared filesystem).
    public var executable: String
    /// How the jobs are submitted to SLURM; nil for a plan run by another engine.
    public var slurm: SlurmSettings?

    public init(settings: StudyConfig, executable: String, slurm: SlurmSettings?) {
        self.version = Self.currentVersion
        self.settings = settings
        let pairs = settings.seedList.flatMap { seed in settings.strategies.map { (seed, $0) } }
        self.cells = pairs.enumerated().map { Cell(index: $0.offset, strategy: $0.element.1, seed: $0.element.0) }
        self.executable = executable
        self.slurm = slurm
    }

    /// The cell with index `index`, or an error giving the valid range.
    public func cell(_ index: Int) throws -> Cell {
        guard cells.indices.contains(index) else {
            throw HostError("cell index \(index) is out of range: this plan has cells 0...\(cells.count - 1)")
        }
        return cells[index]
    }

    /// Reads and checks a plan file; every problem names the file.
    public static func read(_ file: URL) throws -> StudyPlan {
        let attributes = try? FileManager.default.attributesOfItem(atPath: file.path)
        guard attributes?[.type] as? FileAttributeType == .typeRegular else {
            throw HostError(
                "\(file.path): cannot read the plan (missing or not a regular file; 'skilltune compare --launcher slurm' writes it)"
            )
        }
        guard let size = attributes?[.size] as? NSNumber, size.int64Value <= maximumSize else {
            throw HostError("\(file.path): a plan file is at most \(maximumSize >> 20) MB")
        }
        return try parse(try Data(contentsOf: file), file: file.path)
    }

    /// Parses a plan's bytes (`file` names it in messages) and checks that its cells are the settings' strategies
    /// in order.
    public static func parse(_ data: Data, file: String) throws -> StudyPlan {
        let plan: StudyPlan
        do { plan = try JSONNesting.decode(StudyPlan.self, from: data, file: file) } catch let error as DecodingError {
            throw HostError("\(file): not a SkillTune plan: \(StudyFile.describe(error))")
        } catch {
            throw HostError("\(file): not a SkillTune plan: \(error)")
        }
        guard plan.version == currentVersion else {
            throw HostError(
                "\(file): plan version \(plan.version), but this skilltune reads version \(currentVersion) (write it again with this skilltune's 'compare --launcher')"
            )
        }
        let expected = StudyPlan(settings: plan.settings, executable: plan.executable, slurm: plan.slurm).cells
        guard plan.cells == expected else {
            throw HostError(
                "\(file): field 'cells' must list the settings' seeds and strategies in order with indices from 0 (expected \(expected.map { "\($0.index): \($0.strategy) seed \($0.seed)" }.joined(separator: ", ")))"
            )
        }
        let problems = plan.settings.problems()
        guard problems.isEmpty else {
            throw HostError("\(file): bad settings: " + problems.joined(separator: "; "))
        }
        if let slurm = plan.slurm { try slurm.check(source: file) }
        return plan
    }

    /// Writes `plan.json` into `directory`, atomically.
    public func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: directory.appendingPathComponent(Self.fileName))
    }
}

/// Which cell an array task runs and with how many threads, from the variables batch engines set.
public enum CellEnvironment {
    /// The variables that give a task its 0-based index, in the order they are read: SLURM job arrays,
    /// Kubernetes indexed Jobs, AWS Batch array jobs.
    public static let indexVariables = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"]

    /// `given` (an `--index`), else the first index variable set; an error names them all when none is.
    public static func index(given: Int?, environment: [String: String]) throws -> Int {
        if let given { return given }
        for name in indexVariables {
            guard let text = environment[name] else { continue }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 0 else {
                throw HostError("\(name)='\(text)': expected a cell index (a whole number >= 0)")
            }
            return value
        }
        throw HostError(
            "no cell index: pass --index N, or run as an array task (\(indexVariables.joined(separator: ", ")) gives it)"
        )
    }

    /// The kernel threads for a task: `SLURM_CPUS_PER_TASK` (the CPUs SLURM gave it), else nil (the default).
    public static func threads(environment: [String: String]) throws -> Int? {
        guard let text = environment["SLURM_CPUS_PER_TASK"] else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), (1...256).contains(value) else {
            throw HostError("SLURM_CPUS_PER_TASK='\(text)': expected a whole number of CPUs from 1 to 256")
        }
        return value
    }
}
