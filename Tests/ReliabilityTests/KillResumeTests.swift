import Foundation
import Kernel
import XCTest

/// The real `skilltune compare` process killed with SIGKILL again and again (at chosen points inside
/// pretraining, evaluation, training and file writes, and at seeded random moments), resumed each time, ends
/// with results identical to an uninterrupted run's, and no file it leaves is ever cut short.
final class KillResumeTests: XCTestCase {
    var scratch: URL!

    override func setUp() {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("skilltune-kill-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: scratch) }

    func testKilledAndResumedComparisonMatchesAnUninterruptedOne() throws {
        // The uninterrupted run, with its own cache.
        let whole = scratch.appendingPathComponent("whole")
        let started = Date()
        let reference = try SkillTuneProcess.run(
            SkillTuneProcess.compareArguments(out: whole, extra: ["--quiet"]),
            cache: scratch.appendingPathComponent("cache-whole"), scratch: scratch)
        let duration = Date().timeIntervalSince(started)
        XCTAssertEqual(reference.status, 0, reference.errors)

        let cache = scratch.appendingPathComponent("cache")
        let killed = scratch.appendingPathComponent("killed")
        let arguments = SkillTuneProcess.compareArguments(out: killed, extra: ["--resume", "--quiet"])

        // Kills at chosen points, in the order a run reaches them (each resumed run counts from 1 again).
        let points = [
            "train pretrain step 12#1",  // pretraining the base model (cold cache)
            "write model.safetensors#1",  // writing the cached base model
            "evaluate base#3",  // evaluating the base model
            "write stage.json#1",  // saving the base stage record
            "train count step 7#1",  // sa-proj, stage 1
            "write model.safetensors#1",  // sa-proj stage-1 checkpoint
            "evaluate clock#3",  // evaluating after sa-proj stage 2
            "train clock step 10#2",  // lora, stage 2
            "write results.json#1",  // the result files
            "write report.html#1",
        ]
        var kills: [String] = []
        for point in points {
            let r = try SkillTuneProcess.run(
                arguments, cache: cache, environment: ["SKILLTUNE_FAULT_KILL": point], scratch: scratch)
            if r.signaled {
                XCTAssertEqual(r.status, SIGKILL, r.errors)
                kills.append(point)
            } else {
                XCTAssertEqual(r.status, 0, "\(point): \(r.errors)")
            }
            SkillTuneProcess.checkEveryFileIsWhole(killed)
            SkillTuneProcess.checkEveryFileIsWhole(cache)
        }
        XCTAssertEqual(kills, points, "every fault point was reached")

        // Then at seeded random moments, starting afresh every other time.
        var generator = RandomGenerator(seed: 8)
        var randomKills: [String] = []
        for round in 0..<6 {
            if round % 2 == 0 { try FileManager.default.removeItem(at: killed) }
            let log = scratch.appendingPathComponent("random-\(round).txt")
            let process = try SkillTuneProcess.start(arguments, cache: cache, errors: log)
            // (The cache is warm now: a run takes well under half the cold one.)
            usleep(UInt32(30_000 + generator.int(below: max(1, Int(duration * 0.4e6)))))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                let phase =
                    ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").last ?? "start-up"
                randomKills.append(String(phase))
            }
            process.waitUntilExit()
            SkillTuneProcess.checkEveryFileIsWhole(killed)
        }
        let last = try SkillTuneProcess.run(arguments, cache: cache, scratch: scratch)
        XCTAssertEqual(last.status, 0, last.errors)
        XCTAssertGreaterThanOrEqual(randomKills.count, 3)
        print(
            "KillResumeTests: \(kills.count) kills at chosen points (\(kills.joined(separator: "; "))), "
                + "\(randomKills.count) at random moments, after: \(randomKills.joined(separator: "; ")) (a whole run takes \(String(format: "%.1f", duration)) s)"
        )

        // Leftover temporary files are cleaned up on resume, and nothing is half written.
        XCTAssertEqual(SkillTuneProcess.checkEveryFileIsWhole(killed), [])
        XCTAssertEqual(
            try SkillTuneProcess.deterministicResults(killed), try SkillTuneProcess.deterministicResults(whole))

        // A full disk while the results are rewritten: an error saying the previous files are intact, and they are.
        let before = try resultFileBytes(killed)
        let full = try SkillTuneProcess.run(
            arguments, cache: cache, environment: ["SKILLTUNE_FAULT_DISK_FULL_AFTER": "1000"], scratch: scratch)
        XCTAssertEqual(full.status, 1, full.errors)
        XCTAssertTrue(
            full.errors.contains("No space left on device") && full.errors.contains("are intact"), full.errors)
        XCTAssertEqual(try resultFileBytes(killed), before)

        // A base model larger than the memory limit is refused before it is loaded.
        let small = try SkillTuneProcess.run(
            arguments, cache: cache, environment: ["SKILLTUNE_MEMORY_LIMIT": "64K"], scratch: scratch)
        XCTAssertEqual(small.status, 1, small.errors)
        XCTAssertTrue(small.errors.contains("refusing to load"), small.errors)
    }

    /// The same on a study of an outside model: the qwen2-tiny Hugging Face fixture as the base (no pretraining,
    /// chat template on by default) and JSON Lines data files as targets and held-out benchmark, the real
    /// process killed with SIGKILL in the base evaluation, in training, while a checkpoint is written, in the
    /// second strategy and while the results are written, resumed each time.
    func testKilledStudyOfAHuggingFaceCheckpointResumesToTheSameResults() throws {
        let data = scratch.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        func file(_ name: String, _ line: (Int) -> (String, String)) throws -> String {
            let url = data.appendingPathComponent(name + ".jsonl")
            let lines = (0..<30).map { i -> String in
                let (prompt, answer) = line(i)
                return "{\"id\": \"\(name)-\(i)\", \"prompt\": \"\(prompt)\", \"answer\": \"\(answer)\"}"
            }
            try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        let arith = try file("arith") { ("What is \($0 % 7) plus \($0 % 5)?", "\($0 % 7 + $0 % 5)") }
        let colors = try file("colors") { ("Name color number \($0 % 4).", ["red", "green", "blue", "gray"][$0 % 4]) }
        let facts = try file("facts") { ("Fact \($0): the sky is", "blue") }
        let model = SkillTuneProcess.packageRoot.appendingPathComponent("Tests/Fixtures/hf/qwen2-tiny")
        func arguments(_ out: URL, _ extra: [String] = []) -> [String] {
            [
                "compare", "--model", model.path, "--targets", arith + "@numeric," + colors, "--held-out", facts,
                "--strategies", "sa-proj,lora", "--preset", "quick", "--steps", "6", "--batch-size", "4",
                "--eval-examples", "6", "--threads", "1", "--quiet", "--out", out.path,
            ] + extra
        }
        let cache = scratch.appendingPathComponent("cache")
        let whole = scratch.appendingPathComponent("hf-whole")
        let reference = try SkillTuneProcess.run(arguments(whole), cache: cache, scratch: scratch)
        XCTAssertEqual(reference.status, 0, reference.errors)

        let killed = scratch.appendingPathComponent("hf-killed")
        // In the order a run reaches them; each resumed run counts occurrences from 1 again.
        let points = [
            "evaluate base facts#1",  // evaluating the base model
            "train arith step 3#1",  // sa-proj, stage 1
            "write model.safetensors#1",  // sa-proj's stage-1 checkpoint
            "train colors step 2#1",  // sa-proj, stage 2
            "train arith step 2#1",  // lora, stage 1 (sa-proj is complete now)
            "write results.json#1",  // the result files
        ]
        for point in points {
            let r = try SkillTuneProcess.run(
                arguments(killed, ["--resume"]), cache: cache, environment: ["SKILLTUNE_FAULT_KILL": point],
                scratch: scratch)
            XCTAssertTrue(r.signaled, "\(point) was not reached: \(r.errors)")
            XCTAssertEqual(r.status, SIGKILL, r.errors)
            SkillTuneProcess.checkEveryFileIsWhole(killed)
        }
        let last = try SkillTuneProcess.run(arguments(killed, ["--resume"]), cache: cache, scratch: scratch)
        XCTAssertEqual(last.status, 0, last.errors)
        XCTAssertEqual(SkillTuneProcess.checkEveryFileIsWhole(killed), [])
        XCTAssertEqual(
            try SkillTuneProcess.deterministicResults(killed), try SkillTuneProcess.deterministicResults(whole))
    }

    func resultFileBytes(_ directory: URL) throws -> [Data] {
        try ["results.json", "results.csv", "report.html"].map {
            try Data(contentsOf: directory.appendingPathComponent($0))
        }
    }
}
