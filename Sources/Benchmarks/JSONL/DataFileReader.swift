import Foundation
import Kernel

/// One item of a data file, checked and turned into examples.
struct LoadedItem {
    var id: String
    /// The line (from 1) the item starts on.
    var line: Int
    /// The split the file gives, else the hashed one.
    var split: Split
    /// Whether `split` came from the item's `"split"` field.
    var explicitSplit: Bool
    /// One example per turn, each with the earlier turns as history; the last has the item's id.
    var turns: [Example]
    /// The answers the scored (last) turn accepts, when the item lists more than one.
    var references: [String]?
    var options: [String]?
    var hashKey: String

    /// The example scored on eval: the last turn, with every earlier turn as history.
    var scored: Example { turns[turns.count - 1] }
}

/// Reads a data file of any `DataFileFormat` into checked items: every image is read, every answer checked
/// against the scoring, and every malformed item reported with its line and what was wrong.
struct DataFileReader {
    var file: URL
    /// Default ids are `idPrefix:LINE` (JSON Lines) or `idPrefix:ITEM` (JSON arrays, from 1).
    var idPrefix: String
    var scoring: DataFileBenchmark.Scoring
    /// Relative image paths start here (the file's directory when nil).
    var imageFolder: URL?
    var imageLimits: ImageLimits
    var maxItems: Int

    /// Decoded images by resolved path: items that share an image share its pixels.
    private var imageCache: [String: Image] = [:]

    init(
        file: URL, idPrefix: String, scoring: DataFileBenchmark.Scoring, imageFolder: URL?,
        imageLimits: ImageLimits, maxItems: Int
    ) {
        self.file = file
        self.idPrefix = idPrefix
        self.scoring = scoring
        self.imageFolder = imageFolder
        self.imageLimits = imageLimits
        self.maxItems = maxItems
    }

    /// Reads the bytes of a file at most `maxFileBytes` long.
    static func bytes(of file: URL, maxFileBytes: Int) throws -> Data {
        let path = file.path
        func fail(_ reason: String) -> DataFileBenchmark.LoadError {
            DataFileBenchmark.LoadError(file: path, problems: [(0, reason)])
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let size = attributes?[.size] as? Int, attributes?[.type] as? FileAttributeType == .typeRegular else {
            throw fail("cannot read the file (missing or not a regular file)")
        }
        guard size <= maxFileBytes else {
            throw fail("file of \(size) bytes is larger than the limit of \(maxFileBytes)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read the file") }
        return data
    }

    /// The items of `data` and its format; throws `LoadError` listing every problem.
    mutating func read(_ data: Data) throws -> (format: DataFileFormat, items: [LoadedItem]) {
        let path = file.path
        guard String(data: data, encoding: .utf8) != nil else {
            throw DataFileBenchmark.LoadError(file: path, problems: [(0, "the file is not UTF-8 text")])
        }
        let format = DataFileFormat.detect(data)
        var items: [LoadedItem] = []
        var problems: [(line: Int, reason: String)] = []

        func add(_ text: Data, line: Int, label: String, number: Int) {
            do {
                items.append(try item(from: text, format: format, line: line, number: number))
            } catch let problem as DataItem.Problem {
                problems.append((line, label + problem.reason))
            } catch {
                problems.append((line, label + "\(error)"))
            }
        }

        if format.isArray {
            let elements: [JSONArrayScanner.Element]
            do {
                elements = try JSONArrayScanner.elements(of: data, maxElements: maxItems)
            } catch let error as JSONArrayScanner.ScanError {
                throw DataFileBenchmark.LoadError(file: path, problems: [(0, error.reason)])
            }
            for (k, element) in elements.enumerated() {
                add(data.subdata(in: element.range), line: element.line, label: "item \(k + 1): ", number: k + 1)
            }
        } else {
            var lineNumber = 0
            var count = 0
            for rawLine in DataFileText.withoutByteOrderMark(data).split(
                separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            {
                lineNumber += 1
                guard rawLine.contains(where: { !DataFileText.isJSONSpace($0) }) else { continue }
                count += 1
                guard count <= maxItems else {
                    throw DataFileBenchmark.LoadError(
                        file: path, problems: [(0, "more than \(maxItems) items (the limit)")])
                }
                add(Data(rawLine), line: lineNumber, label: "", number: lineNumber)
            }
        }
        if items.isEmpty && problems.isEmpty {
            problems.append((0, "no examples (the file has no " + (format.isArray ? "items)" : "non-blank lines)")))
        }
        var seen: [String: Int] = [:]
        for item in items {
            if let first = seen[item.id] {
                problems.append((item.line, "id \"\(item.id)\" is already used on line \(first)"))
            } else {
                seen[item.id] = item.line
            }
        }
        guard problems.isEmpty else {
            throw DataFileBenchmark.LoadError(file: path, problems: problems.sorted { $0.line < $1.line })
        }
        return (format, items)
    }

    /// One item: parsed by its format, its image read, its answers checked.
    private mutating func item(from text: Data, format: DataFileFormat, line: Int, number: Int) throws -> LoadedItem {
        guard JSONNesting.depth(of: text) <= JSONNesting.limit,
            let object = try? JSONSerialization.jsonObject(with: text, options: [.fragmentsAllowed])
        else { throw DataItem.Problem(reason: "not valid JSON") }
        guard let fields = object as? [String: Any] else {
            throw DataItem.Problem(reason: "expected a JSON object {...}")
        }
        let parsed: DataItem
        switch format {
        case .skillTune: parsed = try DataItem.skillTune(fields)
        case .messages: parsed = try DataItem.conversation(fields, style: .roleContent)
        case .shareGPT: parsed = try DataItem.conversation(fields, style: .fromValue)
        case .llava:
            // Array items may be in any of the item shapes.
            if fields["conversations"] == nil && fields["messages"] != nil {
                parsed = try DataItem.conversation(fields, style: .roleContent)
            } else if fields["conversations"] == nil && fields["prompt"] != nil {
                parsed = try DataItem.skillTune(fields)
            } else {
                parsed = try DataItem.conversation(fields, style: .fromValue)
            }
        }
        let image = try parsed.images.first.map { try self.image($0) }
        let last = parsed.turns[parsed.turns.count - 1]
        let references = [last.assistant] + parsed.answers.filter { $0 != last.assistant }
        for reference in references {
            if let problem = scoring.problem(withAnswer: reference, options: parsed.options) {
                throw DataItem.Problem(reason: problem)
            }
        }
        let id = parsed.id ?? "\(idPrefix):\(number)"
        let examples = parsed.turns.indices.map { k in
            Example(
                id: k == parsed.turns.count - 1 ? id : "\(id)#\(k + 1)", prompt: parsed.turns[k].user,
                answer: parsed.turns[k].assistant, image: image, system: parsed.system,
                history: Array(parsed.turns[..<k]))
        }
        return LoadedItem(
            id: id, line: line, split: parsed.split ?? parsed.hashedSplit, explicitSplit: parsed.split != nil,
            turns: examples, references: references.count > 1 ? references : nil, options: parsed.options,
            hashKey: parsed.hashKey)
    }

    /// The image a reference names: a `data:` URI with base64 bytes, a `file://` URL, an absolute path, or a
    /// path relative to the image folder. PNG, PPM and JPEG (whatever `ImageFile` decodes).
    private mutating func image(_ reference: String) throws -> Image {
        func problem(_ shown: String, _ reason: String) -> DataItem.Problem {
            DataItem.Problem(reason: "image \(shown): \(reason)")
        }
        if reference.hasPrefix("data:") {
            let shown = "data:... (\(reference.utf8.count) bytes)"
            guard let comma = reference.firstIndex(of: ","), reference[..<comma].hasSuffix(";base64"),
                let bytes = Data(base64Encoded: String(reference[reference.index(after: comma)...]))
            else { throw problem(shown, "expected a data:image/...;base64, URI with valid base64") }
            do {
                return try ImageFile.decode([UInt8](bytes), file: "data URI", limits: imageLimits)
            } catch let error as ImageCodecError {
                throw problem(shown, error.reason)
            }
        }
        var path = reference
        if path.hasPrefix("file://") {
            path = String(path.dropFirst("file://".count))
        } else if let scheme = path.range(of: "://"), !path[..<scheme.lowerBound].contains("/") {
            throw problem(reference, "remote images are not supported (download it and give its path)")
        }
        let url =
            path.hasPrefix("/")
            ? URL(fileURLWithPath: path)
            : (imageFolder ?? file.deletingLastPathComponent()).appendingPathComponent(path)
        if let cached = imageCache[url.path] { return cached }
        do {
            let image = try ImageFile.read(url, limits: imageLimits)
            imageCache[url.path] = image
            return image
        } catch let error as ImageCodecError {
            throw problem(reference, error.reason)
        }
    }
}
