import Foundation

/// One entry of `added_tokens` in a `tokenizer.json`.
public struct AddedToken: Equatable {
    /// The token's id (after the BPE vocabulary for Qwen2's specials, inside it for `<s>`/`</s>` in some files).
    public var id: Int32
    /// The exact text the token stands for (`<|im_start|>`), matched in the input before any BPE.
    public var content: String
    /// Special tokens (`<|im_end|>`) end generation or frame chat turns; decoding keeps them unless asked not to.
    public var special: Bool
    /// Matches only when not inside a word.
    public var singleWord: Bool
    /// Takes the whitespace on its left (or right) into the match.
    public var leftStrip: Bool
    public var rightStrip: Bool
    /// Matched in the normalized text (true) or in the raw text, before normalization (false).
    public var normalized: Bool

    static func parse(_ json: JSONObject) throws -> AddedToken {
        let idValue = try json.requiredValue("id")
        guard let id = JSONValue.tokenID(idValue), id < HFTokenizer.maximumTokenID else {
            throw TokenizerFileError.wrongType(
                json.file, json.keyPath("id"), expected: "a token id (0 ..< 16777216)", found: idValue)
        }
        let content = try json.string("content")
        guard !content.isEmpty else { throw TokenizerFileError.invalid(json.file, json.keyPath("content"), "is empty") }
        let special = try json.bool("special", default: false)
        return AddedToken(
            id: id, content: content, special: special,
            singleWord: try json.bool("single_word", default: false),
            leftStrip: try json.bool("lstrip", default: false),
            rightStrip: try json.bool("rstrip", default: false),
            normalized: try json.bool("normalized", default: !special))
    }
}

/// A stretch of text: either an added token already recognized, or text still to be tokenized.
enum TextSegment {
    case token(Int32)
    case text(String)
}

/// Finds added tokens in text the way Hugging Face's `AddedVocabulary::find_matches` does: leftmost match first,
/// the longest one at that position, then `single_word`, `lstrip` and `rstrip` applied; the rest is text.
struct AddedTokenMatcher {
    private struct Pattern {
        var bytes: [UInt8]
        var token: AddedToken
    }

    /// Patterns by first byte, longest first.
    private let patternsByFirstByte: [[Pattern]]
    let isEmpty: Bool

    /// `patterns` pairs the text to look for (the content, or its normalized form) with the token.
    init(_ patterns: [(text: String, token: AddedToken)]) {
        var table = [[Pattern]](repeating: [], count: 256)
        for (text, token) in patterns where !text.isEmpty {
            let bytes = Array(text.utf8)
            table[Int(bytes[0])].append(Pattern(bytes: bytes, token: token))
        }
        for i in 0..<256 { table[i].sort { $0.bytes.count > $1.bytes.count } }
        patternsByFirstByte = table
        isEmpty = patterns.isEmpty
    }

    /// `text` cut into added tokens and the text between them (empty text segments are left out).
    func split(_ text: String) -> [TextSegment] {
        if isEmpty { return text.isEmpty ? [] : [.text(text)] }
        let bytes = Array(text.utf8)
        var segments: [TextSegment] = []
        var textStart = 0
        var searchFrom = 0
        func emitText(_ range: Range<Int>) {
            if !range.isEmpty { segments.append(.text(String(decoding: bytes[range], as: UTF8.self))) }
        }
        while searchFrom < bytes.count {
            guard let (matchStart, pattern) = nextMatch(in: bytes, from: searchFrom) else { break }
            var start = matchStart
            var stop = matchStart + pattern.bytes.count
            searchFrom = stop
            let token = pattern.token
            if token.singleWord {
                let wordBefore =
                    start > 0 && UTF8Scan.scalar(endingAt: start, in: bytes).map(UTF8Scan.isWordCharacter) == true
                let wordAfter =
                    stop < bytes.count
                    && UTF8Scan.scalar(startingAt: stop, in: bytes).map(UTF8Scan.isWordCharacter) == true
                if wordBefore || wordAfter { continue }
            }
            if token.leftStrip {
                var newStart = start
                while newStart > 0, let s = UTF8Scan.scalar(endingAt: newStart, in: bytes), s.properties.isWhitespace {
                    newStart -= UTF8.width(s)
                }
                start = max(newStart, textStart)
            }
            if token.rightStrip {
                while stop < bytes.count, let s = UTF8Scan.scalar(startingAt: stop, in: bytes),
                    s.properties.isWhitespace
                {
                    stop += UTF8.width(s)
                }
            }
            guard start >= textStart else { continue }  // overlaps what an earlier rstrip took
            emitText(textStart..<start)
            segments.append(.token(token.id))
            textStart = stop
            searchFrom = max(searchFrom, stop)
        }
        emitText(textStart..<bytes.count)
        return segments
    }

    /// The leftmost position at or after `from` where a pattern matches, with the longest pattern matching there.
    private func nextMatch(in bytes: [UInt8], from: Int) -> (Int, Pattern)? {
        var i = from
        while i < bytes.count {
            for pattern in patternsByFirstByte[Int(bytes[i])] where pattern.bytes.count <= bytes.count - i {
                var equal = true
                for k in 1..<pattern.bytes.count where bytes[i + k] != pattern.bytes[k] {
                    equal = false
                    break
                }
                if equal { return (i, pattern) }
            }
            i += 1
        }
        return nil
    }
}

/// Scalar access at byte offsets of valid UTF-8 (which is all a Swift String holds).
enum UTF8Scan {
    static func scalar(startingAt offset: Int, in bytes: [UInt8]) -> Unicode.Scalar? {
        var iterator = bytes[offset...].makeIterator()
        var decoder = UTF8()
        if case .scalarValue(let s) = decoder.decode(&iterator) { return s }
        return nil
    }

    static func scalar(endingAt offset: Int, in bytes: [UInt8]) -> Unicode.Scalar? {
        var start = offset - 1
        while start > 0 && bytes[start] & 0xC0 == 0x80 { start -= 1 }
        guard start >= 0 else { return nil }
        return scalar(startingAt: start, in: bytes)
    }

    /// `\w` of Rust's regex crate: alphabetic, marks, decimal digits, connector punctuation, join controls.
    static func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
        let p = s.properties
        if p.isAlphabetic || p.isJoinControl { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }
}
