import XCTest
import Foundation
import Kernel

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
        let cache = scratch.appendingPathComponent("cache")
        let killed = scratch.appendingPathComponent("killed")
        let arguments = SkillTuneProcess.compareArguments(out: killed, extra: ["--resume", "--quiet"])

        // Kills at chosen points, in the order a run reaches them (each resumed run counts from 1 again).
        let points = ["train pretrain step 12#1",  // pretraining the base model (cold cache)
                      "write model.safetensors#1",  // writing the cached base model
                      "evaluate base#5",  // evaluating the base model
                      "write stage.json#1",  // saving the base stage record
                      "train count step 7#1",  // sa-proj, stage 1
                      "write model.safetensors#1",  // sa-proj stage-1 checkpoint
                      "evaluate clock#3",  // evaluating after sa-proj stage 2
                      "train clock step 10#2",  // lora, stage 2
                      "write results.json#1",  // the result files
                      "write report.html#1"]
        var kills: [String] = []
        for point in points {
            let r = try SkillTuneProcess.run(arguments, cache: cache, environment: ["SKILLTUNE_FAULT_KILL": point], scratch: scratch)
            if r.signaled {
                XCTAssertEqual(r.status, SIGKILL, r.errors)
                kills.append(point)
            } else {
                XCTAssertEqual(r.status, 0, "\(point): \(r.errors)")
            }
            SkillTuneProcess.checkEveryFileIsWhole(killed)
            SkillTuneProcess.checkEveryFileIsWhole(cache)
        }
        // Then at seeded random moments of a run started from scratch each time it finishes.
        var generator = RandomGenerator(seed: 8)
        var randomKills = 0
        for round in 0..<6 {
            if round % 3 == 0 { try? FileManager.default.removeItem(at: killed) }
            let log = scratch.appendingPathComponent("random-\(round).txt")
            let process = try SkillTuneProcess.start(arguments, cache: cache, errors: log)
            usleep(UInt32(100_000 + generator.int(below: 1_400_000)))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                randomKills += 1
            }
            process.waitUntilExit()
            SkillTuneProcess.checkEveryFileIsWhole(killed)
        }
        let last = try SkillTuneProcess.run(arguments, cache: cache, scratch: scratch)
        XCTAssertEqual(last.status, 0, last.errors)
        XCTAssertGreaterThanOrEqual(kills.count, 9, "the fault points were reached: \(kills)")
        print("KillResumeTests: \(kills.count) kills at chosen points (\(kills.joined(separator: "; "))), \(randomKills) at random moments")

        // Leftover temporary files are cleaned up on resume, and nothing is half written.
        XCTAssertEqual(SkillTuneProcess.checkEveryFileIsWhole(killed), [])

        // The uninterrupted run, with the same (now warm) cache and the same settings.
        let whole = scratch.appendingPathComponent("whole")
        let reference = try SkillTuneProcess.run(SkillTuneProcess.compareArguments(out: whole, extra: ["--quiet"]), cache: cache, scratch: scratch)
        XCTAssertEqual(reference.status, 0, reference.errors)
        XCTAssertEqual(try SkillTuneProcess.deterministicResults(killed), try SkillTuneProcess.deterministicResults(whole))
    }
}
