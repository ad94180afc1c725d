import Foundation
import Kernel
import SkillSuite
import XCTest

final class ContactSheetTests: XCTestCase {
    func testWritesSheetTextAndLoadableJSONL() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sheet-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = try ContactSheet.write(ClockBenchmark(), count: 5, seed: 3, to: dir, scale: 2)
        let sheet = try ImageFile.read(output.sheet)
        // 3 columns x 2 rows of 64x64 cells, 11-pixel label strips, 2-pixel separators.
        XCTAssertEqual(sheet.width, 3 * 64 + 4 * 2)
        XCTAssertEqual(sheet.height, 2 * (64 + 11) + 3 * 2)
        let examples = try ClockBenchmark().examples(.eval, count: 5, seed: 3)
        // The first cell is the first image scaled 2x, nearest neighbour.
        let first = examples[0].image!
        for (x, y) in [(0, 0), (17, 9), (31, 31)] {
            let sheetIndex = ((2 + 11 + 2 * y + 1) * sheet.width + 2 + 2 * x + 1) * 3
            let imageIndex = (y * 32 + x) * 3
            XCTAssertEqual(
                Array(sheet.pixels[sheetIndex..<(sheetIndex + 3)]), Array(first.pixels[imageIndex..<(imageIndex + 3)]))
        }
        let text = try String(contentsOf: output.text, encoding: .utf8)
        for e in examples { XCTAssertTrue(text.contains(e.answer) && text.contains(e.id)) }
        let lines = try String(contentsOf: output.jsonl, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 5)
        let record = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        XCTAssertEqual(record["answer"] as? String, examples[0].answer)
        let imagePath = dir.appendingPathComponent(record["image"] as! String)
        XCTAssertEqual(try ImageFile.read(imagePath), first)
    }

    func testDescriptionSheetsShowThePretrainingDescriptionsAndPathologyHasNone() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sheet-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = try ContactSheet.write(ChartBenchmark(), count: 4, seed: 2, descriptions: true, to: dir, scale: 1)
        let text = try String(contentsOf: output.text, encoding: .utf8)
        for e in try ChartBenchmark().descriptionExamples(.eval, count: 4, seed: 2) {
            // Whole-picture descriptions, or focused ones of one bar.
            XCTAssertTrue(
                (e.answer.hasPrefix("bars from the left: ") || e.answer.hasPrefix("the ")) && text.contains(e.answer),
                e.answer)
        }
        XCTAssertThrowsError(try ContactSheet.write(PathologyBenchmark(), count: 2, descriptions: true, to: dir)) {
            error in
            XCTAssertTrue("\(error)".contains("pathology has no description examples"), "\(error)")
        }
    }

    /// Writes a sheet per benchmark into $SKILLSUITE_SHEETS (for looking at them); skipped when unset.
    func testWriteAllSheetsWhenAsked() throws {
        guard let path = ProcessInfo.processInfo.environment["SKILLSUITE_SHEETS"] else {
            throw XCTSkip("SKILLSUITE_SHEETS not set")
        }
        for benchmark in SkillSuite.all() {
            try ContactSheet.write(
                benchmark, count: 16, seed: 1, to: URL(fileURLWithPath: path).appendingPathComponent(benchmark.name))
        }
    }
}

/// Dumps train/eval data of every task into $SKILLSUITE_DUMP for outside experiments (skipped when unset):
/// `NAME.SPLIT.jsonl` (prompt, answer) and `NAME.SPLIT.rgb` (the images' bytes, concatenated), plus
/// `vocabulary.txt`. Sizes from $SKILLSUITE_DUMP_TRAIN / $SKILLSUITE_DUMP_EVAL (default 4000 / 300).
final class DatasetDumpTests: XCTestCase {
    func testDumpWhenAsked() throws {
        let env = ProcessInfo.processInfo.environment
        guard let path = env["SKILLSUITE_DUMP"] else { throw XCTSkip("SKILLSUITE_DUMP not set") }
        let directory = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(SkillSuite.vocabulary.joined(separator: "\n").utf8).write(
            to: directory.appendingPathComponent("vocabulary.txt"))
        let counts: [Split: Int] = [
            .train: Int(env["SKILLSUITE_DUMP_TRAIN"] ?? "") ?? 4000,
            .eval: Int(env["SKILLSUITE_DUMP_EVAL"] ?? "") ?? 300,
        ]
        for benchmark in SkillSuite.all() {
            for split in Split.allCases {
                let examples = try benchmark.examples(split, count: counts[split]!, seed: 1)
                var lines = ""
                var bytes = [UInt8]()
                for e in examples {
                    let record = try JSONSerialization.data(withJSONObject: ["prompt": e.prompt, "answer": e.answer])
                    lines += String(decoding: record, as: UTF8.self) + "\n"
                    bytes += e.image!.pixels
                }
                try Data(lines.utf8).write(
                    to: directory.appendingPathComponent("\(benchmark.name).\(split.rawValue).jsonl"))
                try Data(bytes).write(to: directory.appendingPathComponent("\(benchmark.name).\(split.rawValue).rgb"))
            }
        }
    }
}
