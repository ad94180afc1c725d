import Foundation
import Kernel

/// Per-example evaluation logs, like lmms-eval's `--log_samples`: one JSON Lines file per benchmark, one line
/// per evaluated example, `{"id", "prompt", "reference", "prediction", "score"}` (keys sorted), in the order the
/// examples were evaluated. Each file is written atomically, so a killed run never leaves half a log, and
/// rewriting one with the same evaluation gives the same bytes.
public enum SampleLog {
    /// One line of a log.
    public struct Record: Codable, Equatable, Sendable {
        public var id: String
        public var prompt: String
        public var reference: String
        public var prediction: String
        public var score: Double

        public init(id: String, prompt: String, reference: String, prediction: String, score: Double) {
            self.id = id
            self.prompt = prompt
            self.reference = reference
            self.prediction = prediction
            self.score = score
        }
    }

    /// The records of one evaluation: examples with the predictions and scores `Evaluator` gave them.
    public static func records(_ examples: [Example], _ outcome: Evaluator.Outcome) -> [Record] {
        zip(examples, zip(outcome.predictions, outcome.scores)).map { example, result in
            Record(
                id: example.id, prompt: example.prompt, reference: example.answer, prediction: result.0,
                score: result.1)
        }
    }

    /// `<directory>/<benchmark>.jsonl` (the name made safe for a file name).
    public static func file(in directory: URL, benchmark: String) -> URL {
        directory.appendingPathComponent(safeFileName(benchmark) + ".jsonl")
    }

    /// Writes the log of one benchmark atomically, creating `directory` if needed.
    public static func write(_ records: [Record], benchmark: String, in directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var text = Data()
        for record in records {
            text.append(try encoder.encode(record))
            text.append(0x0A)
        }
        try AtomicFile.write(text, to: file(in: directory, benchmark: benchmark))
    }

    /// Reads a log written by `write` (for tests and tools).
    public static func read(_ file: URL) throws -> [Record] {
        let data = try Data(contentsOf: file)
        return try data.split(separator: 0x0A).enumerated().map { index, line in
            do {
                return try JSONDecoder().decode(Record.self, from: Data(line))
            } catch {
                throw HostError("\(file.path): line \(index + 1) is not a sample record (\(error))")
            }
        }
    }
}

/// A name made safe for a file or directory name: anything but letters, digits, '-', '_' and '.' becomes '_'.
public func safeFileName(_ name: String) -> String {
    String(name.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
}
