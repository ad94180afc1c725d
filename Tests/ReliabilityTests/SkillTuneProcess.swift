import Foundation
import Kernel
import XCTest

/// Runs the built `skilltune` executable as a user would, with a private cache, and checks the files a
/// comparison leaves.
enum SkillTuneProcess {
    /// The directory of the built products (the test bundle sits beside `skilltune`).
    static var products: URL {
        #if os(macOS)
            for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
                return bundle.bundleURL.deletingLastPathComponent()
            }
            fatalError("no test bundle")
        #else
            return Bundle.main.bundleURL
        #endif
    }

    static var executable: URL { products.appendingPathComponent("skilltune") }

    /// The package root (for the committed fuzz corpus).
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// A small comparison at the quick preset: two strategies, two stages, two held-out benchmarks.
    static func compareArguments(out: URL, strategies: String = "sa-proj,lora", extra: [String] = []) -> [String] {
        [
            "compare", "--preset", "quick", "--strategies", strategies, "--targets", "count,clock", "--held-out",
            "diagram,seed",
            "--pretrain-steps", "30", "--eval-examples", "8", "--threads", "1", "--out", out.path,
        ] + extra
    }

    /// Starts `skilltune arguments`; standard error goes to `errors`.
    static func start(
        _ arguments: [String], cache: URL, environment extra: [String: String] = [:],
        errors: URL
    ) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["SKILLTUNE_CACHE"] = cache.path
        environment.removeValue(forKey: "SKILLTUNE_FAULT_KILL")
        environment.removeValue(forKey: "SKILLTUNE_FAULT_DISK_FULL_AFTER")
        for (k, v) in extra { environment[k] = v }
        process.environment = environment
        FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errors)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs to the end; returns the exit status (or the signal number) and standard error.
    @discardableResult
    static func run(_ arguments: [String], cache: URL, environment: [String: String] = [:], scratch: URL) throws
        -> (status: Int32, signaled: Bool, errors: String)
    {
        let log = scratch.appendingPathComponent("stderr-\(UUID().uuidString).txt")
        let process = try start(arguments, cache: cache, environment: environment, errors: log)
        process.waitUntilExit()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return (process.terminationStatus, process.terminationReason == .uncaughtSignal, text)
    }

    /// Waits until `file` exists (or `seconds` pass); whether it does.
    static func waitFor(_ file: URL, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: file.path) { return true }
            usleep(20_000)
        }
        return false
    }

    /// results.json with the wall-clock section (the last top-level key, "timings") cut out, as bytes.
    static func deterministicResults(_ directory: URL) throws -> String {
        let text = try String(contentsOf: directory.appendingPathComponent("results.json"), encoding: .utf8)
        guard let range = text.range(of: ",\n  \"timings\" : {") else {
            XCTFail("results.json has no timings section")
            return text
        }
        return String(text[..<range.lowerBound])
    }

    /// Every file under `directory` is complete: JSON parses, safetensors validate, reports end properly.
    /// Temporary files of atomic writes (never read by anyone) are returned, not checked.
    @discardableResult
    static func checkEveryFileIsWhole(_ directory: URL, file: StaticString = #filePath, line: UInt = #line) -> [String]
    {
        var temporaries: [String] = []
        guard
            let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey])
        else { return [] }
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
            let name = url.lastPathComponent
            if AtomicFile.temporaryFileOwner(name) != nil || url.path.contains("/.tmp-") {
                temporaries.append(url.path)
                continue
            }
            let data = FileManager.default.contents(atPath: url.path) ?? Data()
            switch url.pathExtension {
            case "json":
                XCTAssertNoThrow(
                    try JSONSerialization.jsonObject(with: data), "\(url.path) is not whole JSON", file: file,
                    line: line)
            case "safetensors":
                XCTAssertNoThrow(
                    try SafeTensorsFile(url: url), "\(url.path) is not a whole safetensors file", file: file, line: line
                )
            case "html":
                XCTAssertTrue(
                    String(decoding: data, as: UTF8.self).contains("</html>"), "\(url.path) is cut short", file: file,
                    line: line)
            case "csv":
                XCTAssertTrue(data.last == UInt8(ascii: "\n"), "\(url.path) is cut short", file: file, line: line)
            default:
                break
            }
        }
        return temporaries
    }
}
