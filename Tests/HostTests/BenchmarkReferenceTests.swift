import Foundation
import Host
import JSONLBenchmark
import Kernel
import SkillTuneCLI
import XCTest

/// `registries.benchmark(reference:role:evalFile:)`: registered names, data files of every format with
/// `@scoring`, and explicit eval files.
final class BenchmarkReferenceTests: XCTestCase {
    let registries = SkillTuneRegistries.builtIn()
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("reference-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    private func write(_ text: String, _ name: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func testDataFilesOfEveryFormatWithScoring() throws {
        let llava = try write(
            #"[{"id": "d1", "split": "eval", "answers": ["1996 AD"], "conversations": [{"from": "human", "value": "Year?"}, {"from": "gpt", "value": "1995"}]}]"#,
            "docs.json")
        let b = try registries.benchmark(reference: llava + "@anls", role: .target)
        let data = try XCTUnwrap(b as? DataFileBenchmark)
        XCTAssertEqual(data.format, .llava)
        XCTAssertEqual(data.scoring, .anls)
        XCTAssertEqual(b.role, .target)
        XCTAssertEqual(b.name, "docs")
        let e = try XCTUnwrap(try b.examples(.eval, count: 1, seed: 0).first)
        XCTAssertEqual(b.score(prediction: "1996", example: e), 0.75)

        let chat = try write(
            #"{"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}"#,
            "sums.jsonl")
        let sums = try XCTUnwrap(try registries.benchmark(reference: chat, role: .heldOut) as? DataFileBenchmark)
        XCTAssertEqual(sums.scoring, .normalized, "the default scoring")
        XCTAssertEqual(sums.format, .messages)
        XCTAssertEqual(BenchmarkReference.stem(chat + "@relaxed"), "sums")
        XCTAssertEqual(BenchmarkReference("a/b@c.jsonl"), BenchmarkReference("a/b@c.jsonl"))
        XCTAssertNil(BenchmarkReference("runs@2/data.jsonl").scoring, "an @ before the last / is part of the path")
    }

    func testRegisteredNamesAndErrors() throws {
        let name = try XCTUnwrap(registries.benchmarks.names.first)
        XCTAssertEqual(try registries.benchmark(reference: name, role: .target).name, name)
        XCTAssertThrowsError(try registries.benchmark(reference: name + "@numeric", role: .target)) {
            XCTAssertTrue("\($0)".contains("registered benchmark with its own scoring"), "\($0)")
        }
        let file = try write(#"{"prompt": "q", "answer": "a"}"#, "one.jsonl")
        XCTAssertThrowsError(try registries.benchmark(reference: file + "@fuzzy", role: .target)) {
            XCTAssertEqual(
                "\($0)",
                "'\(file)@fuzzy': unknown scoring 'fuzzy'; scorings: "
                    + DataFileBenchmark.Scoring.names.joined(separator: ", "))
        }
        XCTAssertThrowsError(try registries.benchmark(reference: "missing/none.jsonl", role: .target)) {
            XCTAssertTrue("\($0)".contains("missing/none.jsonl: data file not found"), "\($0)")
        }
        XCTAssertThrowsError(try registries.benchmark(reference: name, role: .target, evalFile: file)) {
            XCTAssertTrue("\($0)".contains("an eval file applies to data files only"), "\($0)")
        }
        let bad = try write("{\"prompt\": \"q\"}\n", "bad.jsonl")
        XCTAssertThrowsError(try registries.benchmark(reference: bad, role: .target)) {
            XCTAssertTrue("\($0)".contains("bad.jsonl: 1 problem\n  line 1: missing the \"answer\" field"), "\($0)")
        }
    }

    func testEvalFile() throws {
        let train = try write(
            "{\"prompt\": \"q1\", \"answer\": \"1\"}\n{\"prompt\": \"q2\", \"answer\": \"2\"}\n",
            "count.jsonl")
        let eval = try write(
            #"{"conversations": [{"from": "human", "value": "q3"}, {"from": "gpt", "value": "three"}]}"#,
            "count-test.jsonl")
        let b = try registries.benchmark(reference: train + "@numeric", role: .target, evalFile: eval)
        XCTAssertEqual(b.name, "count")
        let data = try XCTUnwrap(b as? DataFileBenchmark)
        XCTAssertEqual(data.availableCount(.train), 2)
        XCTAssertEqual(data.availableCount(.eval), 1)
        let e = try XCTUnwrap(try b.examples(.eval, count: 1, seed: 0).first)
        XCTAssertEqual(b.score(prediction: "3", example: e), 1)
        XCTAssertThrowsError(try registries.benchmark(reference: train, role: .target, evalFile: eval + ".gone")) {
            XCTAssertTrue("\($0)".contains("count-test.jsonl.gone: data file not found"), "\($0)")
        }
    }
}
