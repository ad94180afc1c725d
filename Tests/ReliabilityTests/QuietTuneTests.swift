import Foundation
import XCTest

/// `skilltune tune --quiet` and `compare --quiet` write nothing on standard error (no progress, no log lines) and
/// still tune, export and write their results.
final class QuietTuneTests: XCTestCase {
    func testQuietTuneWritesNothingOnStandardError() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "skilltune-quiet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let examples = SkillTuneProcess.packageRoot.appendingPathComponent("examples/data")
        let out = scratch.appendingPathComponent("tuned")
        func arguments(_ extra: [String]) -> [String] {
            [
                "tune", "--model", examples.appendingPathComponent("tiny-qwen2").path, "--strategy", "sa-proj",
                "--data", examples.appendingPathComponent("parity.jsonl").path, "--watch",
                examples.appendingPathComponent("facts.jsonl").path, "--steps", "2", "--eval-examples", "2",
                "--threads", "1",
            ] + extra
        }
        let cache = scratch.appendingPathComponent("cache")
        let quiet = try SkillTuneProcess.run(
            arguments(["--quiet", "--out", out.path]), cache: cache, scratch: scratch)
        XCTAssertEqual(quiet.status, 0, quiet.errors)
        XCTAssertEqual(quiet.errors, "")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("model.safetensors").path))
        // Without --quiet the same run says what it evaluates.
        let loud = try SkillTuneProcess.run(
            arguments(["--out", scratch.appendingPathComponent("tuned-loud").path]), cache: cache, scratch: scratch)
        XCTAssertEqual(loud.status, 0, loud.errors)
        XCTAssertTrue(loud.errors.contains("before tuning"), loud.errors)
    }

    func testQuietCompareWritesNothingOnStandardError() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "skilltune-quiet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let examples = SkillTuneProcess.packageRoot.appendingPathComponent("examples/data")
        let out = scratch.appendingPathComponent("study")
        let quiet = try SkillTuneProcess.run(
            [
                "compare", "--model", examples.appendingPathComponent("tiny-qwen2").path, "--targets",
                examples.appendingPathComponent("parity.jsonl").path, "--held-out",
                examples.appendingPathComponent("facts.jsonl").path, "--strategies", "sa-proj", "--steps", "2",
                "--eval-examples", "2", "--threads", "1", "--preset", "quick", "--quiet", "--out", out.path,
            ], cache: scratch.appendingPathComponent("cache"), scratch: scratch)
        XCTAssertEqual(quiet.status, 0, quiet.errors)
        XCTAssertEqual(quiet.errors, "")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("results.json").path))
    }
}
