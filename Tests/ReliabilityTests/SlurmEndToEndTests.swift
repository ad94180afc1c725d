import Foundation
import XCTest

/// The study's grid on a real SLURM (the single-node cluster `.ci/slurm-up` brings up): three strategies, one
/// killed by fault injection; the merge job lists exactly that cell; `compare --launcher slurm --resume`
/// resubmits it alone; the merged results equal a local `compare` byte for byte apart from timings.
///
/// Without SLURM the test is skipped, unless `SKILLTUNE_REQUIRE_SLURM=1` (set by `.ci/run`), when that fails it.
final class SlurmEndToEndTests: XCTestCase {
    var scratch: URL!

    override func setUp() {
        // (A single-node cluster shares /tmp with its one node; on a real cluster the directory must be shared.)
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("skilltune-slurm-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: scratch) }

    /// Runs `program arguments` (found on PATH unless absolute) to the end: exit status, standard output and error.
    @discardableResult
    func run(_ program: String, _ arguments: [String], environment extra: [String: String] = [:]) throws
        -> (status: Int32, output: String, errors: String)
    {
        let process = Process()
        if program.hasPrefix("/") {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [program] + arguments
        }
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "SKILLTUNE_FAULT_KILL")
        environment["SKILLTUNE_CACHE"] = scratch.appendingPathComponent("cache").path
        for (k, v) in extra { environment[k] = v }
        process.environment = environment
        let output = scratch.appendingPathComponent("out-\(UUID().uuidString)")
        let errors = scratch.appendingPathComponent("err-\(UUID().uuidString)")
        for file in [output, errors] { FileManager.default.createFile(atPath: file.path, contents: nil) }
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        process.waitUntilExit()
        return (
            process.terminationStatus, try String(contentsOf: output, encoding: .utf8),
            try String(contentsOf: errors, encoding: .utf8)
        )
    }

    func slurmIsUp() -> Bool {
        guard let sinfo = try? run("sinfo", ["-h", "-o", "%T"]), sinfo.status == 0 else { return false }
        return ["idle", "mixed", "allocated"].contains { sinfo.output.contains($0) }
    }

    /// Waits until none of `jobs` (job or array ids) is queued or running.
    func waitForJobs(_ jobs: [String], seconds: Double, file: StaticString = #filePath, line: UInt = #line) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let queue = try run("squeue", ["-h", "-o", "%F %i %T"])
            let ours = queue.output.split(separator: "\n").filter { row in
                let fields = row.split(separator: " ").map(String.init)
                return fields.count >= 2
                    && jobs.contains { $0 == fields[0] || $0 == fields[1] || fields[1].hasPrefix($0 + "_") }
            }
            if queue.status == 0 && ours.isEmpty { return }
            usleep(250_000)
        }
        let queue = try run("squeue", [])
        XCTFail("jobs \(jobs) still queued after \(Int(seconds)) s:\n\(queue.output)", file: file, line: line)
    }

    /// The job ids `compare --launcher slurm` printed ("watch:   squeue -j 1,2,3").
    func jobIds(_ printed: String) -> [String] {
        guard let range = printed.range(of: "squeue -j ") else { return [] }
        return printed[range.upperBound...].prefix { $0 != "\n" }.split(separator: ",").map(String.init)
    }

    /// Skips without SLURM, unless it is required (then fails).
    func requireSlurm() throws {
        guard !slurmIsUp() else { return }
        if ProcessInfo.processInfo.environment["SKILLTUNE_REQUIRE_SLURM"] == "1" {
            XCTFail("SKILLTUNE_REQUIRE_SLURM=1 but SLURM is not up (sinfo shows no usable node)")
        }
        throw XCTSkip("no SLURM here: .ci/slurm-up brings up a single-node cluster")
    }

    func testAGridWithAFailedCellIsMergedResubmittedAndEqualsALocalCompare() throws {
        try requireSlurm()
        let skilltune = SkillTuneProcess.executable.path
        let grid = scratch.appendingPathComponent("grid")
        let strategies = "sa-proj,lora,mlp-gate-up"
        // (--threads sets only this process's threads; each job runs SLURM_CPUS_PER_TASK of them.)
        let launch =
            SkillTuneProcess.compareArguments(out: grid, strategies: strategies)
            + ["--quiet", "--launcher", "slurm", "--cpus-per-task", "1"]
        let started = Date()
        // Cell 1 (lora) is killed as it starts; the other cells and the merge run.
        let first = try run(skilltune, launch, environment: ["SKILLTUNE_FAULT_KILL": "cell lora#1"])
        XCTAssertEqual(first.status, 0, first.errors)
        let jobs = jobIds(first.output)
        XCTAssertEqual(jobs.count, 3, first.output)
        try waitForJobs(jobs, seconds: 180)
        let logs = grid.appendingPathComponent("logs")
        let mergeLog = (try? String(contentsOf: logs.appendingPathComponent("merge.out"), encoding: .utf8)) ?? ""
        XCTAssertTrue(mergeLog.contains("1 of 3 cells have not finished"), mergeLog)
        XCTAssertTrue(mergeLog.contains("cell 1 (lora)"), mergeLog)
        XCTAssertFalse(mergeLog.contains("cell 0 (") || mergeLog.contains("cell 2 ("), mergeLog)
        XCTAssertTrue(mergeLog.contains("resubmit only them: sbatch --array=1 "), mergeLog)
        let cellLog = (try? String(contentsOf: logs.appendingPathComponent("cell-1.out"), encoding: .utf8)) ?? ""
        XCTAssertTrue(cellLog.contains("fault injection: SIGKILL at 'cell lora'"), cellLog)
        XCTAssertFalse(FileManager.default.fileExists(atPath: grid.appendingPathComponent("results.json").path))

        // Resubmitted alone (the base and the other cells are done), without the fault.
        let again = try run(skilltune, ["compare", "--launcher", "slurm", "--resume", "--out", grid.path])
        XCTAssertEqual(again.status, 0, again.errors)
        XCTAssertTrue(again.output.contains("(1 task: 1)"), again.output)
        XCTAssertFalse(again.output.contains("base job"), again.output)
        try waitForJobs(jobIds(again.output), seconds: 180)
        let merged = (try? String(contentsOf: logs.appendingPathComponent("merge.out"), encoding: .utf8)) ?? ""
        XCTAssertTrue(merged.contains("wrote \(grid.path)/results.json"), merged)
        let clusterSeconds = Date().timeIntervalSince(started)

        // The same study on this machine, one thread like each cell: the same results.
        let local = scratch.appendingPathComponent("local")
        let single = try run(
            skilltune, SkillTuneProcess.compareArguments(out: local, strategies: strategies) + ["--quiet"])
        XCTAssertEqual(single.status, 0, single.errors)
        XCTAssertEqual(
            try SkillTuneProcess.deterministicResults(grid), try SkillTuneProcess.deterministicResults(local))
        XCTAssertEqual(
            try Data(contentsOf: grid.appendingPathComponent("results.csv")),
            try Data(contentsOf: local.appendingPathComponent("results.csv")))
        XCTAssertLessThan(clusterSeconds, 300, "the cluster run took \(Int(clusterSeconds)) s")
    }

    /// USR2 before the time limit (sent here by hand, as SLURM sends it `--signal=B:USR2@120` before the limit):
    /// the batch shell passes it on, the cell stops at a step boundary keeping stage 1, the task requeues itself
    /// and its second run resumes after stage 1; the merge then writes the results.
    func testAWarnedCellRequeuesItselfAndResumes() throws {
        try requireSlurm()
        let skilltune = SkillTuneProcess.executable.path
        let grid = scratch.appendingPathComponent("grid")
        let launch =
            SkillTuneProcess.compareArguments(out: grid, strategies: "sa-proj", extra: ["--steps", "300"])
            + ["--quiet", "--launcher", "slurm", "--cpus-per-task", "1"]
        let first = try run(skilltune, launch)
        XCTAssertEqual(first.status, 0, first.errors)
        let jobs = jobIds(first.output)
        XCTAssertEqual(jobs.count, 3, first.output)
        let stage1 = grid.appendingPathComponent("checkpoints/sa-proj/stage-1/stage.json")
        let deadline = Date().addingTimeInterval(180)
        while !FileManager.default.fileExists(atPath: stage1.path) && Date() < deadline { usleep(100_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: stage1.path), "stage 1 finished")
        usleep(300_000)
        let signal = try run("scancel", ["--signal=USR2", "--batch", "\(jobs[1])_0"])
        XCTAssertEqual(signal.status, 0, signal.errors)
        try waitForJobs(jobs, seconds: 240)
        let cellLog = (try? String(contentsOf: grid.appendingPathComponent("logs/cell-0.out"), encoding: .utf8)) ?? ""
        XCTAssertTrue(cellLog.contains("stopping after the current step"), cellLog)
        XCTAssertTrue(cellLog.contains("requeueing \(jobs[1])_0"), cellLog)
        XCTAssertTrue(cellLog.contains("restart 1"), cellLog)
        XCTAssertTrue(cellLog.contains("resuming after stage 1"), cellLog)
        let mergeLog = (try? String(contentsOf: grid.appendingPathComponent("logs/merge.out"), encoding: .utf8)) ?? ""
        XCTAssertTrue(mergeLog.contains("wrote \(grid.path)/results.json"), mergeLog)
    }
}
