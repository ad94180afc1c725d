import Foundation
import HFTokenizers
import Host
import Kernel
import TinyLLaVA
import XCTest

@testable import SkillTuneCLI

/// A short seeded pass of `skilltune fuzz` over every parser (the long runs are `skilltune fuzz all
/// --inputs 1000000`), and every input that once crashed a parser, kept under fuzz/regressions/PARSER/.
final class FuzzTests: XCTestCase {
    /// The fuzz targets' scratch files (as the fuzz command does when it ends).
    override class func tearDown() { FuzzFiles.remove() }

    static let inputsPerParser = 4000

    var corpus: URL { SkillTuneProcess.packageRoot.appendingPathComponent("fuzz/corpus") }
    var regressions: URL { SkillTuneProcess.packageRoot.appendingPathComponent("fuzz/regressions") }

    func testShortSeededPassOverEveryParser() throws {
        XCTAssertEqual(FuzzTarget.all.map(\.name), FuzzTarget.names)
        for target in FuzzTarget.all {
            let runner = FuzzRunner(target: target, seed: 2026, corpus: corpus.appendingPathComponent(target.name))
            XCTAssertGreaterThan(runner.seeds.count, 1, "\(target.name): the committed corpus is found")
            let stats = runner.run(inputs: Self.inputsPerParser, guarded: false)
            XCTAssertEqual(stats.inputs, Self.inputsPerParser)
            XCTAssertGreaterThan(stats.accepted, 0, "\(target.name): the seeds parse")
            XCTAssertGreaterThan(stats.outcomes, 5, "\(target.name): mutations reach several error paths")
            XCTAssertLessThan(stats.longestInputSeconds, 2, "\(target.name)")
        }
    }

    func testMutationsAreReproducibleFromTheSeed() {
        let target = FuzzTarget.named("config-json")!
        func inputs(_ seed: UInt64) -> [[UInt8]] {
            var mutator = FuzzMutator(seed: seed, dictionary: target.dictionary)
            let base = Array(#"{"a":[1,2,{"b":"c"}],"d":true}"#.utf8)
            return (0..<50).map { _ in target.mutate!(&mutator, base, base) }
        }
        XCTAssertEqual(inputs(5), inputs(5))
        XCTAssertNotEqual(inputs(5), inputs(6))
    }

    /// Each file under fuzz/regressions/PARSER/ once crashed that parser; now it must be refused cleanly.
    func testEveryInputThatOnceCrashedIsRefusedCleanly() throws {
        var count = 0
        for target in FuzzTarget.all {
            let directory = regressions.appendingPathComponent(target.name)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { continue }
            let runner = FuzzRunner(target: target, seed: 0, corpus: nil)
            for (file, outcome) in try runner.replay(names.sorted().map { directory.appendingPathComponent($0) }) {
                XCTAssertNotEqual(outcome, "", file)
                count += 1
            }
        }
        XCTAssertGreaterThan(count, 0)
    }

    /// The first crash the fuzzer found: a binary PPM with maxval < 255 and a sample above it overflowed the
    /// rescaling to 0...255 (a trap). Such samples are now an error naming the sample.
    func testBinaryPPMSampleAboveMaxvalIsAnError() {
        let bytes = Array("P6\n1 1\n15\n".utf8) + [200, 1, 2]
        XCTAssertThrowsError(try PPM.decode(bytes)) { error in
            XCTAssertTrue("\(error)".contains("sample 0 is 200, above maxval 15"), "\(error)")
        }
        XCTAssertEqual(try PPM.decode(Array("P6\n1 1\n15\n".utf8) + [15, 0, 1]).pixels, [255, 0, 17])
    }

    /// The second crash: Foundation's JSONDecoder traps (instead of throwing) on a document that ends right
    /// after reaching its nesting limit, e.g. a tiny-llava config.json cut short inside 512 nested arrays.
    /// Every Foundation JSON read now checks the depth first.
    func testJSONNestedToTheDecoderLimitIsRefusedBeforeFoundationSeesIt() throws {
        let hostile = Data(("{\"a\": " + String(repeating: "[", count: 512)).utf8)
        XCTAssertEqual(JSONNesting.depth(of: hostile), 513)
        XCTAssertEqual(JSONNesting.depth(of: Data(#"{"a": "[[[[", "b": [1, {"c": 2}]}"#.utf8)), 3)
        XCTAssertThrowsError(try JSONNesting.decode(TinyLLaVAConfig.self, from: hostile, file: "config.json")) {
            XCTAssertTrue($0 is JSONNestingError, "\($0)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "skilltune-nest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try hostile.write(to: directory.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try TinyLLaVA.load(from: directory)) {
            XCTAssertTrue("\($0)".contains("nested 513 levels"), "\($0)")
        }
        try hostile.write(to: directory.appendingPathComponent("results.json"))
        XCTAssertThrowsError(try ResultFiles.read(from: directory.appendingPathComponent("results.json")))
    }

    /// A 700-byte tokenizer.json naming one token with id 16,777,215 made us allocate a 16M-entry table
    /// (160 MB resident); sparse ids now go to a dictionary.
    func testSparseTokenIDsDoNotAllocateATableForEveryID() throws {
        let file = SkillTuneProcess.packageRoot.appendingPathComponent(
            "fuzz/regressions/tokenizer-json/sparse-token-id-16777215.json")
        let before = FuzzGuard.residentBytes()
        let tokenizer = try HFTokenizer(json: Data(contentsOf: file))
        XCTAssertLessThan(FuzzGuard.residentBytes(), before + (64 << 20), "no table of 16M entries")
        XCTAssertEqual(tokenizer.vocabularySize, 16_777_216)
        XCTAssertEqual(tokenizer.tokenText(16_777_215), "<|endoftext|>")
        XCTAssertEqual(tokenizer.decode([3, 16_777_215]), "ab<|endoftext|>")
        XCTAssertNil(tokenizer.tokenText(1000))
    }
}
