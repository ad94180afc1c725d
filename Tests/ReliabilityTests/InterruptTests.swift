import Foundation
import Kernel
import XCTest

/// Ctrl-C (SIGINT) sent to the real `skilltune compare`: the first stops it cleanly with exit code 130,
/// keeping every finished stage and printing the command that resumes it; that command finishes the run.
/// A second Ctrl-C quits at once.
final class InterruptTests: XCTestCase {
    var scratch: URL!

    override func setUp() {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("skilltune-int-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: scratch) }

    func testCtrlCStopsCleanlyAndSaysHowToResume() throws {
        let cache = scratch.appendingPathComponent("cache")
        let out = scratch.appendingPathComponent("run")
        // Long stages (300 steps), so that Ctrl-C lands inside training.
        let arguments = SkillTuneProcess.compareArguments(
            out: out, strategies: "sa-proj", extra: ["--steps", "300", "--quiet"])
        let log = scratch.appendingPathComponent("first.txt")
        let process = try SkillTuneProcess.start(arguments, cache: cache, errors: log)
        XCTAssertTrue(
            SkillTuneProcess.waitFor(out.appendingPathComponent("checkpoints/base/stage.json"), seconds: 60),
            "the base was evaluated")
        usleep(300_000)
        kill(process.processIdentifier, SIGINT)
        let sent = Date()
        process.waitUntilExit()
        let errors = try String(contentsOf: log, encoding: .utf8)
        XCTAssertEqual(process.terminationStatus, 130, errors)
        XCTAssertLessThan(
            Date().timeIntervalSince(sent), 10, "stops after the current step, not at the end of the stage")
        XCTAssertTrue(errors.contains("Interrupted"), errors)
        guard let line = errors.split(separator: "\n").first(where: { $0.contains("Resume with: ") }) else {
            return XCTFail("no resume command in: \(errors)")
        }
        let command = String(line[line.range(of: "Resume with: ")!.upperBound...])
        XCTAssertTrue(command.hasPrefix("skilltune compare "), command)
        XCTAssertTrue(command.hasSuffix("--resume"), command)
        XCTAssertEqual(SkillTuneProcess.checkEveryFileIsWhole(out), [])
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: out.appendingPathComponent("checkpoints/base/stage.json").path))

        // The printed command (split on spaces: the paths here have none) finishes the comparison.
        let words = command.split(separator: " ").map(String.init).dropFirst()
        let resumed = try SkillTuneProcess.run(Array(words), cache: cache, scratch: scratch)
        XCTAssertEqual(resumed.status, 0, resumed.errors)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("results.json").path))
    }

    func testSecondCtrlCQuitsAtOnce() throws {
        let cache = scratch.appendingPathComponent("cache")
        let out = scratch.appendingPathComponent("run")
        let log = scratch.appendingPathComponent("log.txt")
        let process = try SkillTuneProcess.start(
            SkillTuneProcess.compareArguments(out: out, strategies: "sa-proj", extra: ["--steps", "300", "--quiet"]),
            cache: cache, errors: log)
        XCTAssertTrue(SkillTuneProcess.waitFor(out.appendingPathComponent("study.json"), seconds: 60))
        usleep(200_000)
        kill(process.processIdentifier, SIGINT)
        usleep(50_000)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let errors = try String(contentsOf: log, encoding: .utf8)
        XCTAssertEqual(process.terminationStatus, 130, errors)
        XCTAssertTrue(errors.contains("Resume with: "), errors)
        SkillTuneProcess.checkEveryFileIsWhole(out)
    }
}
