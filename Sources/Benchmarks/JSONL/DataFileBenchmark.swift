import Foundation
import Kernel

/// A benchmark read from a user's data file, so every tool works on data we did not invent.
///
/// The format is recognised by content (`DataFileFormat`):
/// - SkillTune JSON Lines, one object per line:
///   `{"prompt": "...", "answer": "...", "image": "pics/1.png", "split": "eval", "options": ["cat", "dog"], "id": "q1"}`;
///   `prompt` and `answer` (string or number) are required, or `answers` (a list) in place of `answer`.
/// - LLaVA conversation JSON, a JSON array of
///   `{"id", "image"?: path or [paths], "conversations": [{"from": "human", "value": "<image>\n..."}, {"from": "gpt", "value": "..."}]}`
///   (`from` may also be `user`, `assistant`, or `system` for a first system message).
/// - Chat-messages JSON Lines, one `{"messages": [{"role": "system" | "user" | "assistant", "content": ...}], "images"?: [...]}`
///   per line; `content` is a string or a list of `{"type": "text", "text"}` and `{"type": "image", "image"?: path}`
///   parts. ShareGPT lines, `{"conversations": [{"from", "value"}], "images"?}`, too.
///
/// Every item may also have `id`, `split`, `options` and `answers` (more references for the scored turn, for
/// ANLS and the like). Images are PNG, PPM or JPEG (whatever `ImageFile` reads), relative to the file's directory or
/// to `imageFolder`, absolute, or inline `data:` URIs; `<image>` placeholders must match the images (a single
/// image without one gets `<image>\n` before the first user message), and an item has at most one image.
///
/// A conversation of several turns gives one training example per answer, each with the earlier turns as its
/// history, and is scored on its last answer only (with every earlier turn as history).
/// Items with a `split` (`train`, or `eval`/`test`/`val`/`validation`) go there; the others by a hash of their
/// content (one in five to eval), so the same item always lands in the same split and an item's turns never
/// straddle two. `init(train:eval:)` takes an explicit eval file instead.
///
/// The whole file and every image are read and checked when the benchmark is created; every malformed item is
/// reported with its line (and item number in a JSON array) and what was wrong.
public final class DataFileBenchmark: Benchmark {
    public let name: String
    public let role: BenchmarkRole
    public let scoring: Scoring
    /// Relative tolerance of numeric scoring (absolute below 1).
    public var numericTolerance = 1e-6
    /// The file read (the train file when there is an eval file).
    public let file: URL
    /// The explicit eval file, if any.
    public let evalFile: URL?
    /// The format `file` was read as.
    public let format: DataFileFormat
    /// Items in the file(s), each one conversation.
    public let itemCount: Int
    let train: [Example]
    let eval: [Example]
    /// Reference answers of the items listing several, by scored example id.
    let referencesByID: [String: [String]]
    /// Options of the multiple-choice items that list them, by example id.
    let optionsByID: [String: [String]]

    /// The default limit on the number of items in one file.
    public static let defaultMaxItems = 10_000_000

    public var summary: String {
        let files = file.lastPathComponent + (evalFile.map { " + \($0.lastPathComponent)" } ?? "")
        return "\(itemCount) items from \(files), \(format.rawValue) (\(availableCount(.train)) train, "
            + "\(availableCount(.eval)) eval examples), \(scoring.rawValue) scoring"
    }

    /// Reads and checks `file`. `name` defaults to the file name without its extension.
    public convenience init(
        file: URL, name: String? = nil, role: BenchmarkRole = .heldOut,
        scoring: Scoring = .normalized, imageFolder: URL? = nil, maxFileBytes: Int = 1 << 30,
        maxItems: Int = DataFileBenchmark.defaultMaxItems,
        imageLimits: ImageLimits = .standard
    ) throws {
        let data = try DataFileReader.bytes(of: file, maxFileBytes: maxFileBytes)
        try self.init(
            contents: data, file: file, name: name, role: role, scoring: scoring, imageFolder: imageFolder,
            maxItems: maxItems, imageLimits: imageLimits)
    }

    /// Checks `contents` as if read from `file` (image paths are relative to its directory, or `imageFolder`).
    public init(
        contents data: Data, file: URL, name: String? = nil, role: BenchmarkRole = .heldOut,
        scoring: Scoring = .normalized, imageFolder: URL? = nil,
        maxItems: Int = DataFileBenchmark.defaultMaxItems, imageLimits: ImageLimits = .standard
    ) throws {
        let name = name ?? file.deletingPathExtension().lastPathComponent
        var reader = DataFileReader(
            file: file, idPrefix: name, scoring: scoring, imageFolder: imageFolder,
            imageLimits: imageLimits, maxItems: maxItems)
        let (format, items) = try reader.read(data)
        self.name = name
        self.role = role
        self.scoring = scoring
        self.file = file
        self.evalFile = nil
        self.format = format
        itemCount = items.count
        train = items.filter { $0.split == .train }.flatMap(\.turns)
        eval = items.filter { $0.split == .eval }.map(\.scored)
        (referencesByID, optionsByID) = Self.lookups(items)
    }

    /// A benchmark whose train split is every item of `train` and whose eval split is every item of `eval`
    /// (their `split` fields are ignored). Ids default to each file's stem and line; an id or an item (same
    /// conversation and images) found in both files is an error, so the splits never share an example.
    /// `format` is the train file's.
    public init(
        train trainFile: URL, eval evalFile: URL, name: String? = nil, role: BenchmarkRole = .heldOut,
        scoring: Scoring = .normalized, imageFolder: URL? = nil, maxFileBytes: Int = 1 << 30,
        maxItems: Int = DataFileBenchmark.defaultMaxItems, imageLimits: ImageLimits = .standard
    ) throws {
        let name = name ?? trainFile.deletingPathExtension().lastPathComponent
        func read(_ file: URL, idPrefix: String) throws -> (DataFileFormat, [LoadedItem]) {
            var reader = DataFileReader(
                file: file, idPrefix: idPrefix, scoring: scoring, imageFolder: imageFolder,
                imageLimits: imageLimits, maxItems: maxItems)
            return try reader.read(try DataFileReader.bytes(of: file, maxFileBytes: maxFileBytes))
        }
        let (format, trainItems) = try read(trainFile, idPrefix: name)
        var evalPrefix = evalFile.deletingPathExtension().lastPathComponent
        if evalPrefix == name { evalPrefix += "-eval" }
        let (_, evalItems) = try read(evalFile, idPrefix: evalPrefix)

        var problems: [(line: Int, reason: String)] = []
        let trainIDs = Dictionary(trainItems.map { ($0.id, $0.line) }, uniquingKeysWith: { a, _ in a })
        let trainKeys = Dictionary(trainItems.map { ($0.hashKey, $0.line) }, uniquingKeysWith: { a, _ in a })
        for item in evalItems {
            if let line = trainIDs[item.id] {
                problems.append(
                    (item.line, "id \"\(item.id)\" is also used in \(trainFile.lastPathComponent) line \(line)"))
            } else if let line = trainKeys[item.hashKey] {
                problems.append((item.line, "the same item is in \(trainFile.lastPathComponent) line \(line)"))
            }
        }
        guard problems.isEmpty else { throw LoadError(file: evalFile.path, problems: problems) }

        self.name = name
        self.role = role
        self.scoring = scoring
        self.file = trainFile
        self.evalFile = evalFile
        self.format = format
        itemCount = trainItems.count + evalItems.count
        train = trainItems.flatMap(\.turns)
        eval = evalItems.map(\.scored)
        (referencesByID, optionsByID) = Self.lookups(trainItems + evalItems)
    }

    private static func lookups(_ items: [LoadedItem]) -> (references: [String: [String]], options: [String: [String]])
    {
        var references: [String: [String]] = [:]
        var options: [String: [String]] = [:]
        for item in items {
            if let r = item.references { references[item.id] = r }
            if let o = item.options { options[item.id] = o }
        }
        return (references, options)
    }

    /// How many examples the file holds for `split` (a training conversation counts once per answer).
    public func availableCount(_ split: Split) -> Int { split == .train ? train.count : eval.count }

    /// Up to `count` examples of `split`, in an order shuffled by `seed` (so a smaller count is a prefix of a
    /// larger one). A file holds what it holds: asking for more than `availableCount(split)` returns them all.
    public func examples(_ split: Split, count: Int, seed: UInt64) throws -> [Example] {
        var chosen = split == .train ? train : eval
        var rng = RandomGenerator(seed: seed).fork("jsonl/\(name)/\(split.rawValue)")
        rng.shuffle(&chosen)
        return Array(chosen.prefix(max(0, count)))
    }

    /// The best score of `prediction` over the example's references (its answer, and the item's `answers`).
    public func score(prediction: String, example: Example) -> Double {
        let references = referencesByID[example.id] ?? [example.answer]
        let options = optionsByID[example.id]
        var best = 0.0
        for reference in references {
            best = max(
                best,
                scoring.score(
                    prediction, reference: reference, options: options,
                    numericTolerance: numericTolerance))
            if best == 1 { break }
        }
        return best
    }
}
