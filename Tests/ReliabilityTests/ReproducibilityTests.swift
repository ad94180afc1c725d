import Foundation
import XCTest

/// The same command, seed and thread count give byte-identical results.json, the wall-clock `timings`
/// section aside (each run pretrains its own base model in its own cache).
final class ReproducibilityTests: XCTestCase {
    func testSameCommandGivesByteIdenticalResults() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "skilltune-repro-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var texts: [String] = []
        for run in ["a", "b"] {
            let out = scratch.appendingPathComponent(run)
            let r = try SkillTuneProcess.run(
                SkillTuneProcess.compareArguments(out: out, extra: ["--quiet", "--seed", "3"]),
                cache: scratch.appendingPathComponent("cache-\(run)"), scratch: scratch)
            XCTAssertEqual(r.status, 0, r.errors)
            texts.append(try SkillTuneProcess.deterministicResults(out))
            let whole = try String(contentsOf: out.appendingPathComponent("results.json"), encoding: .utf8)
            XCTAssertTrue(whole.hasPrefix(texts.last!), "timings is the last section")
            XCTAssertTrue(whole.dropFirst(texts.last!.count).contains("\"strategySeconds\""))
        }
        XCTAssertEqual(texts[0], texts[1])
        XCTAssertTrue(texts[0].contains("\"seed\" : 3") && texts[0].contains("\"threads\" : 1"))
    }
}
