import Foundation
import JSONLBenchmark
import Kernel
import SkillSuite
import XCTest

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

final class JSONLBenchmarkTests: XCTestCase {
    private var temporary: URL!

    override func setUpWithError() throws {
        temporary = FileManager.default.temporaryDirectory.appendingPathComponent("jsonl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: temporary) }

    private func write(_ text: String, _ name: String = "data.jsonl") throws -> URL {
        let url = temporary.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    func testLoadsFixtureWithImagesSplitsAndIDs() throws {
        let benchmark = try JSONLBenchmark(file: fixtures.appendingPathComponent("small.jsonl"))
        XCTAssertEqual(benchmark.name, "small")
        XCTAssertEqual(benchmark.role, .heldOut)
        XCTAssertEqual(benchmark.availableCount(.train), 3)
        XCTAssertEqual(benchmark.availableCount(.eval), 2)
        let eval = try benchmark.examples(.eval, count: 10, seed: 0)
        XCTAssertEqual(Set(eval.map(\.id)), ["small:1", "geo-1"])
        let red = eval.first { $0.id == "small:1" }!
        XCTAssertEqual(red.image, Image(width: 2, height: 2, fill: (230, 20, 20)))
        let train = try benchmark.examples(.train, count: 10, seed: 0)
        let blue = train.first { $0.answer == "Blue" }!
        XCTAssertEqual(blue.prompt, "<image>\nWhat color is it?", "the placeholder is added when missing")
        XCTAssertEqual(blue.image, Image(width: 3, height: 2, fill: (20, 40, 230)))
        XCTAssertEqual(train.first { $0.prompt.contains("spider") }?.answer, "8", "numeric answers become text")
        XCTAssertTrue(benchmark.summary.contains("3 train"))
    }

    func testExamplesAreSeededPrefixesAndRoleIsAnOption() throws {
        let lines = (0..<50).map { "{\"prompt\": \"q\($0)\", \"answer\": \"a\($0)\"}" }.joined(separator: "\n")
        let benchmark = try JSONLBenchmark(file: try write(lines), name: "mine", role: .target)
        XCTAssertEqual(benchmark.role, .target)
        XCTAssertEqual(benchmark.availableCount(.train) + benchmark.availableCount(.eval), 50)
        XCTAssertGreaterThan(benchmark.availableCount(.eval), 3, "about a fifth of unsplit lines go to eval")
        let all = try benchmark.examples(.train, count: 100, seed: 4)
        XCTAssertEqual(all.count, benchmark.availableCount(.train))
        XCTAssertEqual(try benchmark.examples(.train, count: 5, seed: 4), Array(all.prefix(5)))
        XCTAssertEqual(try benchmark.examples(.train, count: 100, seed: 4), all)
        XCTAssertTrue(Set(all.map(\.id)).isDisjoint(with: try benchmark.examples(.eval, count: 100, seed: 4).map(\.id)))
    }

    func testScoringModes() throws {
        let url = try write("{\"prompt\": \"q\", \"answer\": \"The Apple.\"}\n")
        let e = Example(id: "x", prompt: "q", answer: "The Apple.")
        let exact = try JSONLBenchmark(file: url, scoring: .exact)
        XCTAssertEqual(exact.score(prediction: " The Apple. ", example: e), 1)
        XCTAssertEqual(exact.score(prediction: "the apple", example: e), 0)
        let normalized = try JSONLBenchmark(file: url, scoring: .normalized)
        XCTAssertEqual(normalized.score(prediction: "apple", example: e), 1)
        XCTAssertEqual(normalized.score(prediction: "  an APPLE ", example: e), 1)
        XCTAssertEqual(normalized.score(prediction: "apples", example: e), 0)

        let numeric = try JSONLBenchmark(
            file: try write("{\"prompt\": \"q\", \"answer\": 3.5}\n", "n.jsonl"), scoring: .numeric)
        let n = Example(id: "n", prompt: "q", answer: "3.5")
        for (p, s) in [("3.5", 1.0), ("about 3.50 kg", 1), ("3.6", 0), ("three", 0), ("", 0), ("none", 0)] {
            XCTAssertEqual(numeric.score(prediction: p, example: n), s, p)
        }
        XCTAssertEqual(numeric.score(prediction: "seven", example: Example(id: "n", prompt: "q", answer: "7")), 1)

        let mcText =
            "{\"prompt\": \"Which is a fruit? A. rock B. apple\", \"answer\": \"B\", \"options\": [\"rock\", \"apple\"], \"id\": \"m1\"}\n"
            + "{\"prompt\": \"Pick\", \"answer\": \"(c)\", \"id\": \"m2\"}\n"
        let mc = try JSONLBenchmark(file: try write(mcText, "mc.jsonl"), scoring: .multipleChoice)
        let m1 = Example(id: "m1", prompt: "", answer: "B")
        let m2 = Example(id: "m2", prompt: "", answer: "(c)")
        for (p, s) in [
            ("B", 1.0), ("b.", 1), ("(B) apple", 1), ("apple", 1), ("an apple", 1), ("A", 0), ("rock", 0), ("", 0),
        ] {
            XCTAssertEqual(mc.score(prediction: p, example: m1), s, p)
        }
        XCTAssertEqual(mc.score(prediction: "C", example: m2), 1)
        XCTAssertEqual(mc.score(prediction: "apple", example: m2), 0)
    }

    func testMalformedLinesAreReportedWithLineNumbers() {
        XCTAssertThrowsError(try JSONLBenchmark(file: fixtures.appendingPathComponent("bad.jsonl"))) { error in
            guard let e = error as? JSONLBenchmark.LoadError else { return XCTFail("\(error)") }
            let byLine = Dictionary(e.problems.map { ($0.line, $0.reason) }, uniquingKeysWith: { a, _ in a })
            XCTAssertEqual(Set(byLine.keys), Set(2...10), "\(e)")
            XCTAssertTrue(byLine[2]!.contains("missing the \"answer\""))
            XCTAssertTrue(byLine[3]!.contains("not valid JSON"))
            XCTAssertTrue(byLine[4]!.contains("expected a JSON object"))
            XCTAssertTrue(byLine[5]!.contains("\"prompt\" must be a string"))
            XCTAssertTrue(byLine[6]!.contains("images/missing.png") && byLine[6]!.contains("cannot read"), byLine[6]!)
            XCTAssertTrue(byLine[7]!.contains("images/broken.png") && byLine[7]!.contains("PNG"), byLine[7]!)
            XCTAssertTrue(byLine[8]!.contains("unknown split \"holdout\""))
            XCTAssertTrue(byLine[9]!.contains("<image> placeholder"))
            XCTAssertTrue(byLine[10]!.contains("string or a number"))
            XCTAssertTrue(e.description.contains("bad.jsonl") && e.description.contains("line 7:"), e.description)
        }
    }

    func testWholeFileProblems() throws {
        XCTAssertThrowsError(try JSONLBenchmark(file: temporary.appendingPathComponent("absent.jsonl"))) { error in
            XCTAssertTrue("\(error)".contains("absent.jsonl") && "\(error)".contains("cannot read"), "\(error)")
        }
        XCTAssertThrowsError(try JSONLBenchmark(file: try write("\n  \n", "empty.jsonl"))) { error in
            XCTAssertTrue("\(error)".contains("no examples"), "\(error)")
        }
        XCTAssertThrowsError(
            try JSONLBenchmark(file: try write("{\"prompt\":\"q\",\"answer\":\"a\"}", "big.jsonl"), maxFileBytes: 10)
        ) { error in
            XCTAssertTrue("\(error)".contains("larger than the limit"), "\(error)")
        }
        let duplicate =
            "{\"prompt\":\"q\",\"answer\":\"a\",\"id\":\"x\"}\n{\"prompt\":\"r\",\"answer\":\"b\",\"id\":\"x\"}\n"
        XCTAssertThrowsError(try JSONLBenchmark(file: try write(duplicate, "dup.jsonl"))) { error in
            XCTAssertTrue("\(error)".contains("line 2: id \"x\" is already used on line 1"), "\(error)")
        }
        XCTAssertThrowsError(
            try JSONLBenchmark(
                file: try write("{\"prompt\":\"q\",\"answer\":\"maybe\"}", "mc.jsonl"), scoring: .multipleChoice)
        ) { error in
            XCTAssertTrue("\(error)".contains("line 1: multiple-choice answer \"maybe\""), "\(error)")
        }
        XCTAssertThrowsError(
            try JSONLBenchmark(
                file: try write("{\"prompt\":\"q\",\"answer\":\"lots\"}", "num.jsonl"), scoring: .numeric)
        ) { error in
            XCTAssertTrue("\(error)".contains("has no number"), "\(error)")
        }
        XCTAssertThrowsError(
            try JSONLBenchmark(
                file: try write("{\"prompt\":\"q\",\"answer\":\"C\",\"options\":[\"a\",\"b\"]}", "opt.jsonl"),
                scoring: .multipleChoice)
        ) { error in
            XCTAssertTrue("\(error)".contains("beyond the 2 options"), "\(error)")
        }
        let crlf = try JSONLBenchmark(
            file: try write("{\"prompt\":\"q\",\"answer\":\"a\",\"split\":\"eval\"}\r\n", "crlf.jsonl"))
        XCTAssertEqual(crlf.availableCount(.eval), 1)
    }

    func testMutatedLinesNeverCrash() throws {
        // Seeded mutations of a valid file: every outcome is a benchmark or a LoadError.
        let base = Array(try String(contentsOf: fixtures.appendingPathComponent("small.jsonl"), encoding: .utf8).utf8)
        var rng = RandomGenerator(seed: 5)
        for _ in 0..<500 {
            var bytes = base
            for _ in 0..<(1 + rng.int(below: 3)) {
                let at = rng.int(below: bytes.count)
                if rng.int(below: 2) == 0 { bytes[at] = UInt8(rng.int(below: 128)) } else { bytes.remove(at: at) }
            }
            do {
                _ = try JSONLBenchmark(contents: Data(bytes), file: fixtures.appendingPathComponent("mutated.jsonl"))
            } catch is JSONLBenchmark.LoadError {
            } catch {
                XCTFail("unexpected error \(error)")
            }
        }
    }

    func testContactSheetOutputLoadsAsAJSONLBenchmark() throws {
        let original = try SeedBenchmark().examples(.eval, count: 6, seed: 2)
        let output = try ContactSheet.write(SeedBenchmark(), count: 6, seed: 2, to: temporary)
        let loaded = try JSONLBenchmark(file: output.jsonl, scoring: .multipleChoice)
        XCTAssertEqual(loaded.availableCount(.eval), 6)
        let examples = try loaded.examples(.eval, count: 6, seed: 0)
        XCTAssertEqual(Set(examples.map(\.id)), Set(original.map(\.id)))
        for e in examples {
            let o = original.first { $0.id == e.id }!
            XCTAssertEqual(e, o, "prompt, answer and image survive the round trip")
            XCTAssertEqual(loaded.score(prediction: o.answer, example: e), 1)
        }
    }
}
