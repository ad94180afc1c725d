import Foundation
import XCTest

/// Runs each example program end to end at the quick preset, as a user would, and checks what it prints.
final class ExamplesTests: XCTestCase {
    /// One cache for all examples, so the quick base model is pretrained once.
    static let cache = FileManager.default.temporaryDirectory.appendingPathComponent(
        "skilltune-examples-cache-\(getpid())")
    var scratch: URL!

    override func setUp() {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "skilltune-example-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: scratch) }

    override class func tearDown() { try? FileManager.default.removeItem(at: cache) }

    /// The directory holding the built products (the test bundle sits beside them).
    var products: URL {
        #if os(macOS)
            for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
                return bundle.bundleURL.deletingLastPathComponent()
            }
            fatalError("no test bundle")
        #else
            return Bundle.main.bundleURL
        #endif
    }

    func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = products.appendingPathComponent(program)
        process.arguments = arguments
        process.currentDirectoryURL = scratch
        var environment = ProcessInfo.processInfo.environment
        environment["SKILLTUNE_CACHE"] = ExamplesTests.cache.path
        process.environment = environment
        let pipe = Pipe()
        let errors = Pipe()
        process.standardOutput = pipe
        process.standardError = errors
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        _ = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testCompareRecipes() throws {
        let r = try run(
            "CompareRecipes", ["--preset", "quick", "--out", "cmp", "--strategies", "sa-proj,mlp-gate-up,llm"])
        XCTAssertEqual(r.status, 0, r.output)
        for name in ["sa-proj", "mlp-gate-up", "llm"] { XCTAssertTrue(r.output.contains(name), r.output) }
        XCTAssertTrue(r.output.contains("points learned per point forgotten"), r.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("cmp/report.html").path))
    }

    func testCustomStrategyRunsThroughTheSameHost() throws {
        let r = try run("CustomStrategy", ["--preset", "quick", "--out", "custom"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("top-mlp"), r.output)
        XCTAssertTrue(r.output.contains("sa-proj"), r.output)
        let results = try String(contentsOf: scratch.appendingPathComponent("custom/results.json"), encoding: .utf8)
        XCTAssertTrue(results.contains("\"name\" : \"top-mlp\""), "the custom strategy is recorded like a built-in")
    }

    func testCountingBiasProbeCurves() throws {
        let r = try run("CountingBiasProbe", ["--preset", "quick", "--iterations", "1,5"])
        XCTAssertEqual(r.status, 0, r.output)
        let rows = r.output.split(separator: "\n").filter {
            $0.hasPrefix("llm") || $0.hasPrefix("sa-proj") || $0.hasPrefix("mlp-gate-up")
        }
        XCTAssertEqual(rows.count, 9, "base, 1 and 5 iterations for three strategies:\n\(r.output)")
    }

    func testTuneYourModelTunesTheShippedCheckpointAndExportsIt() throws {
        let r = try run("TuneYourModel", ["--out", "tuned", "--steps", "20"])
        XCTAssertEqual(r.status, 0, r.output)
        for word in ["before", "after parity", "after sign", "facts", "exported (checkpoint)"] {
            XCTAssertTrue(r.output.contains(word), r.output)
        }
        for file in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"] {
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: scratch.appendingPathComponent("tuned/\(file)").path), file)
        }
    }
}
