import Foundation
import Kernel

/// A benchmark read from a user's JSON Lines file, so every tool works on data we did not invent.
///
/// Each non-blank line is an object:
/// `{"prompt": "...", "answer": "...", "image": "pics/1.png", "split": "eval", "options": ["cat", "dog"], "id": "q1"}`
/// - `prompt` (string) and `answer` (string or number) are required.
/// - `image` (optional): a PNG or PPM path, relative to the file's directory (or absolute). A prompt with an image
///   but no `<image>` placeholder gets `<image>\n` put in front; a placeholder without an image is an error.
/// - `split` (optional): `train`, or `eval` (also accepted: `test`, `val`, `validation`). Lines without one are
///   assigned by a hash of their content: one in five goes to eval. Either way the splits never share a line.
/// - `options` (optional, multiple-choice scoring): the option texts, in letter order; a prediction naming the
///   right option's text also counts.
/// - `id` (optional): kept as the example id (default `name:LINE`). Other fields are ignored.
///
/// The whole file and every image are read and checked when the benchmark is created; every malformed line is
/// reported with its line number and what was wrong.
public final class JSONLBenchmark: Benchmark {
    /// How predictions are compared with answers.
    public enum Scoring: String, CaseIterable, Sendable {
        /// Equal after trimming surrounding whitespace.
        case exact
        /// Equal ignoring case, repeated whitespace, a trailing period and a leading article (a, an, the).
        case normalized
        /// The first number in each (digits, decimals or number words) equal within `numericTolerance`.
        case numeric
        /// The chosen option letter ("B", "(b)", "B. dog") equals the answer's letter; the answer must be a letter.
        case multipleChoice = "multiple-choice"
    }

    /// A malformed file: the file, and each bad line with what was wrong.
    public struct LoadError: Error, CustomStringConvertible {
        public var file: String
        /// (line number from 1, reason); line 0 for problems with the whole file.
        public var problems: [(line: Int, reason: String)]
        public var description: String {
            let lines = problems.prefix(20).map { $0.line > 0 ? "  line \($0.line): \($0.reason)" : "  \($0.reason)" }
            let more = problems.count > 20 ? ["  ... and \(problems.count - 20) more"] : []
            return "\(file): " + (problems.count == 1 && problems[0].line == 0 ? problems[0].reason
                : "\(problems.count) problem\(problems.count == 1 ? "" : "s")\n" + (lines + more).joined(separator: "\n"))
        }
    }

    struct Record {
        var example: Example
        var split: Split
        var options: [String]?
        var line: Int
    }

    public let name: String
    public let role: BenchmarkRole
    public let scoring: Scoring
    /// Relative tolerance of numeric scoring (absolute below 1).
    public var numericTolerance = 1e-6
    public let file: URL
    let records: [Record]
    /// Options of the multiple-choice lines that list them, by example id.
    let optionsByID: [String: [String]]

    public var summary: String {
        "\(records.count) examples from \(file.lastPathComponent) (\(availableCount(.train)) train, "
            + "\(availableCount(.eval)) eval), \(scoring.rawValue) scoring"
    }

    /// Reads and checks `file`. `name` defaults to the file name without its extension.
    public convenience init(file: URL, name: String? = nil, role: BenchmarkRole = .heldOut, scoring: Scoring = .normalized,
                            maxFileBytes: Int = 1 << 30, imageLimits: ImageLimits = .standard) throws {
        let path = file.path
        func fail(_ reason: String) -> LoadError { LoadError(file: path, problems: [(0, reason)]) }
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int else {
            throw fail("cannot read the file (missing or not a regular file)")
        }
        guard size <= maxFileBytes else { throw fail("file of \(size) bytes is larger than the limit of \(maxFileBytes)") }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read the file") }
        try self.init(contents: data, file: file, name: name, role: role, scoring: scoring, imageLimits: imageLimits)
    }

    /// Checks JSON Lines `contents` as if read from `file` (image paths are relative to its directory).
    public init(contents data: Data, file: URL, name: String? = nil, role: BenchmarkRole = .heldOut,
                scoring: Scoring = .normalized, imageLimits: ImageLimits = .standard) throws {
        self.file = file
        self.name = name ?? file.deletingPathExtension().lastPathComponent
        self.role = role
        self.scoring = scoring
        let path = file.path
        guard let text = String(data: data, encoding: .utf8) else {
            throw LoadError(file: path, problems: [(0, "the file is not UTF-8 text")])
        }

        var records: [Record] = []
        var problems: [(line: Int, reason: String)] = []
        let directory = file.deletingLastPathComponent()
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            do {
                records.append(try Self.parse(String(line), lineNumber: index + 1, benchmarkName: self.name,
                                              directory: directory, scoring: scoring, imageLimits: imageLimits))
            } catch let error as LineError {
                problems.append((index + 1, error.reason))
            }
        }
        if records.isEmpty && problems.isEmpty { problems.append((0, "no examples (the file has no non-blank lines)")) }
        var seen: [String: Int] = [:]
        for (i, record) in records.enumerated() {
            if let first = seen[record.example.id] {
                problems.append((record.line, "id \"\(record.example.id)\" is already used on line \(records[first].line)"))
            } else {
                seen[record.example.id] = i
            }
        }
        guard problems.isEmpty else { throw LoadError(file: path, problems: problems.sorted { $0.line < $1.line }) }
        self.records = records
        optionsByID = Dictionary(uniqueKeysWithValues: records.compactMap { r in r.options.map { (r.example.id, $0) } })
    }

    struct LineError: Error { var reason: String }

    static func parse(_ line: String, lineNumber: Int, benchmarkName: String, directory: URL, scoring: Scoring,
                      imageLimits: ImageLimits) throws -> Record {
        let object: Any
        do {
            try JSONNesting.check(Data(line.utf8), file: "line \(lineNumber)")
            object = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
        } catch {
            throw LineError(reason: "not valid JSON")
        }
        guard let fields = object as? [String: Any] else { throw LineError(reason: "expected a JSON object {...}") }
        guard let promptValue = fields["prompt"] else { throw LineError(reason: "missing the \"prompt\" field") }
        guard var prompt = promptValue as? String else { throw LineError(reason: "\"prompt\" must be a string") }
        guard let answerValue = fields["answer"] else { throw LineError(reason: "missing the \"answer\" field") }
        let answer: String
        if let s = answerValue as? String {
            answer = s
        } else if let n = answerValue as? NSNumber, !(answerValue is Bool) {
            answer = n.stringValue
        } else {
            throw LineError(reason: "\"answer\" must be a string or a number")
        }
        guard !answer.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw LineError(reason: "\"answer\" is empty") }

        var image: Image?
        if let imageValue = fields["image"], !(imageValue is NSNull) {
            guard let relative = imageValue as? String, !relative.isEmpty else {
                throw LineError(reason: "\"image\" must be a path string")
            }
            let url = relative.hasPrefix("/") ? URL(fileURLWithPath: relative) : directory.appendingPathComponent(relative)
            do {
                image = try ImageFile.read(url, limits: imageLimits)
            } catch let error as ImageCodecError {
                throw LineError(reason: "image \(relative): \(error.reason)")
            }
            if !prompt.contains("<image>") { prompt = "<image>\n" + prompt }
        } else if prompt.contains("<image>") {
            throw LineError(reason: "the prompt has an <image> placeholder but the line has no \"image\"")
        }

        var split: Split
        if let splitValue = fields["split"] {
            guard let s = splitValue as? String else { throw LineError(reason: "\"split\" must be a string") }
            switch s.lowercased() {
            case "train": split = .train
            case "eval", "test", "val", "validation": split = .eval
            default: throw LineError(reason: "unknown split \"\(s)\" (expected train or eval)")
            }
        } else {
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            for b in (prompt + "\u{1}" + answer + "\u{1}" + ((fields["image"] as? String) ?? "")).utf8 {
                h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3
            }
            split = (h >> 17) % 5 == 0 ? .eval : .train
        }

        var options: [String]?
        if let optionsValue = fields["options"] {
            guard let list = optionsValue as? [String], !list.isEmpty else {
                throw LineError(reason: "\"options\" must be a non-empty array of strings")
            }
            options = list
        }
        if scoring == .multipleChoice {
            guard let letter = AnswerMatching.choiceLetter(in: answer) else {
                throw LineError(reason: "multiple-choice answer \"\(answer)\" is not an option letter (A, B, ...)")
            }
            if let options, Int(letter.asciiValue! - 65) >= options.count {
                throw LineError(reason: "answer \(letter) is beyond the \(options.count) options")
            }
        }
        if scoring == .numeric && AnswerMatching.number(in: answer) == nil {
            throw LineError(reason: "numeric answer \"\(answer)\" has no number")
        }
        var id = "\(benchmarkName):\(lineNumber)"
        if let idValue = fields["id"] {
            guard let s = idValue as? String else { throw LineError(reason: "\"id\" must be a string") }
            id = s
        }
        return Record(example: Example(id: id, prompt: prompt, answer: answer, image: image), split: split, options: options, line: lineNumber)
    }

    /// How many examples the file holds for `split`.
    public func availableCount(_ split: Split) -> Int { records.filter { $0.split == split }.count }

    /// Up to `count` examples of `split`, in an order shuffled by `seed` (so a smaller count is a prefix of a
    /// larger one). A file holds what it holds: asking for more than `availableCount(split)` returns them all.
    public func examples(_ split: Split, count: Int, seed: UInt64) throws -> [Example] {
        var chosen = records.filter { $0.split == split }.map(\.example)
        var rng = RandomGenerator(seed: seed).fork("jsonl/\(name)/\(split.rawValue)")
        rng.shuffle(&chosen)
        return Array(chosen.prefix(max(0, count)))
    }

    public func score(prediction: String, example: Example) -> Double {
        switch scoring {
        case .exact:
            return prediction.trimmingCharacters(in: .whitespacesAndNewlines) == example.answer.trimmingCharacters(in: .whitespacesAndNewlines) ? 1 : 0
        case .normalized:
            return AnswerMatching.normalizedWithoutArticle(prediction) == AnswerMatching.normalizedWithoutArticle(example.answer) ? 1 : 0
        case .numeric:
            guard let p = AnswerMatching.number(in: prediction), let a = AnswerMatching.number(in: example.answer) else { return 0 }
            return abs(p - a) <= numericTolerance * max(1, abs(a)) ? 1 : 0
        case .multipleChoice:
            guard let a = AnswerMatching.choiceLetter(in: example.answer) else { return 0 }
            if let p = AnswerMatching.choiceLetter(in: prediction) { return p == a ? 1 : 0 }
            // A prediction that names the right option's text also counts.
            if let options = optionsByID[example.id], Int(a.asciiValue! - 65) < options.count {
                let index = Int(a.asciiValue! - 65)
                return AnswerMatching.normalizedWithoutArticle(prediction) == AnswerMatching.normalizedWithoutArticle(options[index]) ? 1 : 0
            }
            return 0
        }
    }
}
