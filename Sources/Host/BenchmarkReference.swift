import Foundation
import JSONLBenchmark
import Kernel

extension SkillTuneRegistries {
    /// The benchmark a `--targets` / `--held-out` / `--data` entry names: a registered benchmark name, or a data
    /// file path with an optional scoring rule after `@` (`count.jsonl@numeric`; default `normalized`; the
    /// scorings are `DataFileBenchmark.Scoring.names`). A data file may be in any format `DataFileBenchmark`
    /// reads (SkillTune JSON Lines, LLaVA conversation JSON, chat-messages or ShareGPT JSON Lines), recognised by
    /// content. A file's stem names its stage and column. `role` is what the study uses the file for (a
    /// registered benchmark keeps its own role).
    ///
    /// `evalFile`, when given, is the data file whose items make the eval split (the reference's file then
    /// gives the train split only; `tune --eval-data FILE` and the study config's `"eval"` pass it); it takes
    /// the reference's scoring. `imageFolder` is where relative image paths start (default: each file's
    /// directory).
    public func benchmark(
        reference: String, role: BenchmarkRole, evalFile: String? = nil,
        imageFolder: String? = nil
    ) throws -> any Benchmark {
        let parsed = BenchmarkReference(reference)
        if benchmarks.contains(reference) || (parsed.scoring != nil && benchmarks.contains(parsed.path)) {
            guard parsed.scoring == nil || benchmarks.contains(reference) else {
                throw HostError(
                    "'\(reference)': \(parsed.path) is a registered benchmark with its own scoring; "
                        + "'@scoring' applies to data files only")
            }
            guard evalFile == nil else {
                throw HostError(
                    "'\(reference)' is a registered benchmark with its own eval split; an eval file "
                        + "applies to data files only")
            }
            return try benchmark(reference)
        }
        guard BenchmarkReference.looksLikeFile(parsed.path) else {
            // Not a file: let the registry say which names exist (with a suggestion).
            return try benchmark(reference)
        }
        func check(_ path: String) throws {
            guard FileManager.default.fileExists(atPath: path) else {
                throw HostError(
                    "\(path): data file not found (expected a registered benchmark name, "
                        + "\(benchmarks.names.joined(separator: ", ")), or a data file such as data.jsonl[@scoring])")
            }
        }
        try check(parsed.path)
        let scoring: DataFileBenchmark.Scoring
        do {
            scoring = try parsed.scoring.map(DataFileBenchmark.Scoring.named) ?? .normalized
        } catch let error as DataFileBenchmark.UnknownScoring {
            throw HostError("'\(reference)': \(error)")
        }
        let folder = imageFolder.map { URL(fileURLWithPath: $0, isDirectory: true) }
        let file = URL(fileURLWithPath: parsed.path)
        guard let evalFile else {
            return try DataFileBenchmark(file: file, role: role, scoring: scoring, imageFolder: folder)
        }
        try check(evalFile)
        return try DataFileBenchmark(
            train: file, eval: URL(fileURLWithPath: evalFile), role: role, scoring: scoring,
            imageFolder: folder)
    }
}

/// How a benchmark reference on the command line is read: `NAME` (registered) or `PATH[@SCORING]`.
public struct BenchmarkReference: Equatable, Sendable {
    /// The registered name or the data file path.
    public var path: String
    /// The scoring after `@`, if any.
    public var scoring: String?

    public init(_ reference: String) {
        (path, scoring) = Self.split(reference)
    }

    /// Splits `path@scoring` into its parts (no scoring when there is no `@` after the last `/`).
    public static func split(_ reference: String) -> (path: String, scoring: String?) {
        guard let at = reference.lastIndex(of: "@"), !reference[at...].contains("/") else { return (reference, nil) }
        return (String(reference[..<at]), String(reference[reference.index(after: at)...]))
    }

    /// Whether a reference names a file rather than a registered benchmark: it has a path separator or an
    /// extension.
    public static func looksLikeFile(_ path: String) -> Bool {
        path.contains("/") || path.contains(".")
    }

    /// The stage and column name of a data file: its file name without the extension.
    public static func stem(_ path: String) -> String {
        URL(fileURLWithPath: split(path).path).deletingPathExtension().lastPathComponent
    }
}
