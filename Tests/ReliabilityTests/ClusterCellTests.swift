import Foundation
import Kernel
import XCTest

/// The real `skilltune cell` as a batch job runs it: the index from the engine's variable, threads from
/// SLURM_CPUS_PER_TASK, and USR2 (SLURM's warning before the time limit) stopping it at a step boundary with the
/// finished stages kept, so that the requeued task resumes.
final class ClusterCellTests: XCTestCase {
    var scratch: URL!

    override func setUp() {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("skilltune-cell-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: scratch) }

    func testUSR2StopsACellAtAStepBoundaryAndTheRequeuedTaskResumes() throws {
        let cache = scratch.appendingPathComponent("cache")
        let out = scratch.appendingPathComponent("grid")
        // Long stages (300 steps), so that the signal lands inside training.
        let plan = try SkillTuneProcess.run(
            SkillTuneProcess.compareArguments(
                out: out, strategies: "sa-proj",
                extra: ["--steps", "300", "--quiet", "--launcher", "slurm", "--dry-run"]),
            cache: cache, scratch: scratch)
        XCTAssertEqual(plan.status, 0, plan.errors)
        let planFile = out.appendingPathComponent("plan.json").path
        let base = try SkillTuneProcess.run(
            ["cell", "--plan", planFile, "--base", "--quiet"], cache: cache, scratch: scratch)
        XCTAssertEqual(base.status, 0, base.errors)

        let task = ["SLURM_ARRAY_TASK_ID": "0", "SLURM_CPUS_PER_TASK": "1"]
        let log = scratch.appendingPathComponent("cell.txt")
        let process = try SkillTuneProcess.start(
            ["cell", "--plan", planFile], cache: cache, environment: task, errors: log)
        let stage1 = out.appendingPathComponent("checkpoints/sa-proj/stage-1/stage.json")
        XCTAssertTrue(SkillTuneProcess.waitFor(stage1, seconds: 120), "stage 1 finished")
        usleep(300_000)
        kill(process.processIdentifier, SIGUSR2)
        let sent = Date()
        process.waitUntilExit()
        let errors = try String(contentsOf: log, encoding: .utf8)
        XCTAssertEqual(process.terminationStatus, 130, errors)
        XCTAssertLessThan(
            Date().timeIntervalSince(sent), 10, "stops after the current step, not at the end of the stage")
        XCTAssertTrue(errors.contains("stopping after the current step"), errors)
        XCTAssertTrue(FileManager.default.fileExists(atPath: stage1.path), "the finished stage is kept")
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: out.appendingPathComponent("checkpoints/sa-proj/result.json").path))
        XCTAssertEqual(SkillTuneProcess.checkEveryFileIsWhole(out), [])

        // The requeued task: the same command resumes after stage 1 and finishes the cell.
        let again = try SkillTuneProcess.run(
            ["cell", "--plan", planFile], cache: cache, environment: task, scratch: scratch)
        XCTAssertEqual(again.status, 0, again.errors)
        XCTAssertTrue(again.errors.contains("resuming after stage 1"), again.errors)
        let record =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: out.appendingPathComponent("checkpoints/sa-proj/result.json"))) as? [String: Any]
        XCTAssertEqual(record?["threads"] as? Int, 1, "threads from SLURM_CPUS_PER_TASK")
        XCTAssertEqual((record?["result"] as? [String: Any])?["status"] as? String, "complete")
        // Finished: run again, it exits at once.
        let done = try SkillTuneProcess.run(
            ["cell", "--plan", planFile], cache: cache, environment: task, scratch: scratch)
        XCTAssertEqual(done.status, 0, done.errors)
        XCTAssertTrue(done.errors.contains("already finished"), done.errors)
        let merged = try SkillTuneProcess.run(["merge", out.path], cache: cache, scratch: scratch)
        XCTAssertEqual(merged.status, 0, merged.errors)
    }

    func testACellWithoutAnIndexSaysWhereOneComesFrom() throws {
        let out = scratch.appendingPathComponent("grid")
        let cache = scratch.appendingPathComponent("cache")
        _ = try SkillTuneProcess.run(
            SkillTuneProcess.compareArguments(out: out, extra: ["--launcher", "slurm", "--dry-run"]), cache: cache,
            scratch: scratch)
        let plan = out.appendingPathComponent("plan.json").path
        let missing = try SkillTuneProcess.run(["cell", "--plan", plan], cache: cache, scratch: scratch)
        XCTAssertEqual(missing.status, 2, missing.errors)
        XCTAssertTrue(missing.errors.contains("SLURM_ARRAY_TASK_ID"), missing.errors)
        let beyond = try SkillTuneProcess.run(
            ["cell", "--plan", plan], cache: cache, environment: ["JOB_COMPLETION_INDEX": "7"], scratch: scratch)
        XCTAssertEqual(beyond.status, 1, beyond.errors)
        XCTAssertTrue(beyond.errors.contains("cells 0...1"), beyond.errors)
        let noBase = try SkillTuneProcess.run(["cell", "--plan", plan, "--index", "1"], cache: cache, scratch: scratch)
        XCTAssertEqual(noBase.status, 1, noBase.errors)
        XCTAssertTrue(noBase.errors.contains("study.json"), noBase.errors)
    }
}
