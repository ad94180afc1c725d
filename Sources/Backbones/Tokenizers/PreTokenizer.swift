import Foundation

/// How a `Split` pre-tokenizer treats the pieces its pattern matches (Hugging Face's `SplitDelimiterBehavior`).
enum SplitBehavior: String, CaseIterable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"
}

/// The `pre_tokenizer` of a `tokenizer.json`: cuts normalized text into pieces that BPE encodes one by one.
/// Supported: `ByteLevel`, `Split` (Regex or String pattern, any behavior, invert), `Digits`, and `Sequence`.
///
/// Pieces are Strings; as in Hugging Face, `ByteLevel` replaces each piece by its byte-level form (one scalar per
/// UTF-8 byte, see `ByteLevelAlphabet`), so steps after it see that form. Empty pieces are dropped after every step.
indirect enum PreTokenizer {
    case byteLevel(addPrefixSpace: Bool, regex: RegexPattern?)
    case split(pattern: RegexPattern, behavior: SplitBehavior, invert: Bool)
    case digits(individual: Bool)
    case sequence([PreTokenizer])

    static let supportedTypes = ["ByteLevel", "Split", "Digits", "Sequence"]

    /// GPT-2's pre-tokenization regex, the one `ByteLevel` applies when `use_regex` is true.
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    static func parse(_ json: JSONObject) throws -> PreTokenizer {
        let type = try json.string("type")
        switch type {
        case "ByteLevel":
            let useRegex = try json.bool("use_regex", default: true)
            return .byteLevel(
                addPrefixSpace: try json.bool("add_prefix_space", default: true),
                regex: useRegex ? try RegexPattern.compiled(gpt2Pattern) : nil)
        case "Split":
            let patternJSON = try json.object("pattern")
            let pattern: RegexPattern
            if let regex = try patternJSON.optionalString("Regex") {
                do {
                    pattern = try RegexPattern.compiled(regex)
                } catch {
                    throw TokenizerFileError.invalid(
                        json.file, patternJSON.keyPath("Regex"), "is not a valid regular expression: \(regex)")
                }
            } else if let literal = try patternJSON.optionalString("String") {
                pattern = try RegexPattern.literal(literal)
            } else {
                throw TokenizerFileError.invalid(
                    json.file, patternJSON.path, "should hold \"Regex\" or \"String\"")
            }
            let behaviorName = try json.string("behavior")
            guard let behavior = SplitBehavior(rawValue: behaviorName) else {
                throw TokenizerFileError.unsupported(
                    json.file, json.keyPath("behavior"), value: behaviorName,
                    supported: SplitBehavior.allCases.map(\.rawValue))
            }
            return .split(pattern: pattern, behavior: behavior, invert: try json.bool("invert", default: false))
        case "Digits":
            return .digits(individual: try json.bool("individual_digits", default: false))
        case "Sequence":
            return .sequence(try json.objects("pretokenizers").map(parse))
        default:
            throw TokenizerFileError.unsupported(
                json.file, json.keyPath("type"), value: type, supported: supportedTypes)
        }
    }

    /// Whether a `ByteLevel` step is part of this pre-tokenizer (byte-level BPE needs one).
    var containsByteLevel: Bool {
        switch self {
        case .byteLevel: return true
        case .split, .digits: return false
        case .sequence(let steps): return steps.contains { $0.containsByteLevel }
        }
    }

    /// The pieces of `pieces` after this step.
    func apply(_ pieces: [String]) -> [String] {
        switch self {
        case .sequence(let steps):
            return steps.reduce(pieces) { $1.apply($0) }
        case .byteLevel(let addPrefixSpace, let regex):
            var out: [String] = []
            out.reserveCapacity(pieces.count)
            for piece in pieces {
                let spaced = addPrefixSpace && piece.utf8.first != 0x20 ? " " + piece : piece
                let parts = regex.map { PreTokenizer.cut(spaced, $0.matches(in: spaced), behavior: .isolated) }
                for part in parts ?? [spaced] where !part.isEmpty {
                    out.append(ByteLevelAlphabet.encode(part.utf8))
                }
            }
            return out
        case .split(let pattern, let behavior, let invert):
            return pieces.flatMap { piece -> [String] in
                var spans = PreTokenizer.spans(covering: piece.utf8.count, matches: pattern.matches(in: piece))
                if invert { spans = spans.map { ($0.range, !$0.isMatch) } }
                return PreTokenizer.cut(piece, spans: spans, behavior: behavior)
            }
        case .digits(let individual):
            return pieces.flatMap { piece -> [String] in
                PreTokenizer.cut(
                    piece, spans: PreTokenizer.numericSpans(piece), behavior: individual ? .isolated : .contiguous)
            }
        }
    }

    // MARK: Splitting by spans, as NormalizedString::split does

    /// Matches and the gaps between them, covering `0..<length` in order (empty matches kept, like Hugging Face).
    static func spans(covering length: Int, matches: [Range<Int>]) -> [(range: Range<Int>, isMatch: Bool)] {
        var spans: [(range: Range<Int>, isMatch: Bool)] = []
        var previous = 0
        for m in matches where m.lowerBound >= previous && m.upperBound <= length {
            if previous < m.lowerBound { spans.append((previous..<m.lowerBound, false)) }
            spans.append((m, true))
            previous = m.upperBound
        }
        if previous < length { spans.append((previous..<length, false)) }
        return spans
    }

    /// Each numeric scalar (general category Nd, Nl or No, like Rust's `char::is_numeric`) as its own match.
    static func numericSpans(_ text: String) -> [(range: Range<Int>, isMatch: Bool)] {
        var spans: [(range: Range<Int>, isMatch: Bool)] = []
        var offset = 0
        var gapStart = 0
        for scalar in text.unicodeScalars {
            let width = UTF8.width(scalar)
            switch scalar.properties.generalCategory {
            case .decimalNumber, .letterNumber, .otherNumber:
                if gapStart < offset { spans.append((gapStart..<offset, false)) }
                spans.append((offset..<(offset + width), true))
                gapStart = offset + width
            default:
                break
            }
            offset += width
        }
        if gapStart < offset { spans.append((gapStart..<offset, false)) }
        return spans
    }

    static func cut(_ text: String, _ matches: [Range<Int>], behavior: SplitBehavior) -> [String] {
        cut(text, spans: spans(covering: text.utf8.count, matches: matches), behavior: behavior)
    }

    /// Applies a split behavior to spans of `text` and returns the non-empty pieces that are kept.
    static func cut(_ text: String, spans: [(range: Range<Int>, isMatch: Bool)], behavior: SplitBehavior) -> [String] {
        var kept: [Range<Int>] = []
        switch behavior {
        case .isolated:
            kept = spans.map(\.range)
        case .removed:
            kept = spans.filter { !$0.isMatch }.map(\.range)
        case .contiguous:
            var previousMatch = false
            for span in spans {
                if span.isMatch == previousMatch, let last = kept.last {
                    kept[kept.count - 1] = last.lowerBound..<span.range.upperBound
                } else {
                    kept.append(span.range)
                }
                previousMatch = span.isMatch
            }
        case .mergedWithPrevious:
            var previousMatch = false
            for span in spans {
                if span.isMatch && !previousMatch, let last = kept.last {
                    kept[kept.count - 1] = last.lowerBound..<span.range.upperBound
                } else {
                    kept.append(span.range)
                }
                previousMatch = span.isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for span in spans.reversed() {
                if span.isMatch && !previousMatch, let last = kept.last {
                    kept[kept.count - 1] = span.range.lowerBound..<last.upperBound
                } else {
                    kept.append(span.range)
                }
                previousMatch = span.isMatch
            }
            kept.reverse()
        }
        // Slice the UTF-8 bytes: ranges sit on scalar boundaries but not always on Character boundaries (a
        // combining mark after a letter), and String's own subscript would round those to Characters.
        let bytes = Array(text.utf8)
        return kept.compactMap { range -> String? in
            guard !range.isEmpty, range.upperBound <= bytes.count else { return nil }
            return String(decoding: bytes[range], as: UTF8.self)
        }
    }
}
