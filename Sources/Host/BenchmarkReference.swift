import Foundation
import JSONLBenchmark
import Kernel

extension SkillTuneRegistries {
    /// The benchmark a `--targets` / `--held-out` / `--data` entry names: a registered benchmark name, or a data
    /// file path with an optional scoring rule after `@` (`count.jsonl@numeric`; default `normalized`). A file's
    /// stem names its stage and column. `role` is what the study uses the file for (a registered benchmark keeps
    /// its own role).
    public func benchmark(reference: String, role: BenchmarkRole) throws -> any Benchmark {
        if benchmarks.contains(reference) { return try benchmark(reference) }
        let (path, scoringName) = BenchmarkReference.split(reference)
        guard BenchmarkReference.looksLikeFile(path) else {
            // Not a file: let the registry say which names exist (with a suggestion).
            return try benchmark(reference)
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw HostError("\(path): data file not found (expected a registered benchmark name, \(benchmarks.names.joined(separator: ", ")), or a data file such as data.jsonl[@scoring])")
        }
        var scoring = JSONLBenchmark.Scoring.normalized
        if let scoringName {
            guard let s = JSONLBenchmark.Scoring(rawValue: scoringName) else {
                throw HostError("'\(reference)': unknown scoring '\(scoringName)'; scorings: \(JSONLBenchmark.Scoring.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            scoring = s
        }
        return try JSONLBenchmark(file: URL(fileURLWithPath: path), role: role, scoring: scoring)
    }
}

/// How a benchmark reference on the command line is read.
public enum BenchmarkReference {
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
