import Foundation

/// A compiled regular expression (ICU syntax through `NSRegularExpression`: `\p{L}`, lookahead and `(?i:)` work
/// as in the Oniguruma patterns that `tokenizers` uses) that reports its matches as UTF-8 byte ranges.
///
/// Matching runs on UTF-16 offsets; they are converted with a table built from the string's scalars, so that a
/// range never splits a scalar, whatever the input (combining marks, astral-plane characters, lone joiners).
final class RegexPattern {
    let pattern: String
    private let regex: NSRegularExpression

    private init(pattern: String, regex: NSRegularExpression) {
        self.pattern = pattern
        self.regex = regex
    }

    private static let cacheLock = NSLock()
    nonisolated(unsafe) private static var cache: [String: RegexPattern] = [:]

    /// The compiled pattern, shared by every tokenizer that uses it (compiling is slow, matching is thread safe).
    static func compiled(_ pattern: String) throws -> RegexPattern {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let hit = cache[pattern] { return hit }
        let regex = try NSRegularExpression(pattern: pattern, options: [])
        let compiled = RegexPattern(pattern: pattern, regex: regex)
        cache[pattern] = compiled
        return compiled
    }

    /// A pattern matching `literal` exactly.
    static func literal(_ literal: String) throws -> RegexPattern {
        try compiled(NSRegularExpression.escapedPattern(for: literal))
    }

    /// The non-overlapping matches in `text`, left to right, as UTF-8 byte offset ranges (empty matches included).
    func matches(in text: String) -> [Range<Int>] {
        let utf16Count = text.utf16.count
        guard utf16Count > 0 else { return [] }
        let ranges = regex.matches(in: text, options: [], range: NSRange(location: 0, length: utf16Count))
            .map { $0.range }
        if text.utf8.count == utf16Count {  // ASCII: offsets agree
            return ranges.compactMap { r in
                r.location == NSNotFound ? nil : r.location..<(r.location + r.length)
            }
        }
        let utf8Offset = RegexPattern.utf8Offsets(of: text)
        return ranges.compactMap { r in
            guard r.location != NSNotFound, r.location + r.length <= utf16Count else { return nil }
            return utf8Offset[r.location]..<utf8Offset[r.location + r.length]
        }
    }

    /// For each UTF-16 offset (and the end), the UTF-8 offset of the scalar starting there. The trailing half of a
    /// surrogate pair gets the offset of its scalar's end, so a (never expected) range boundary inside a pair still
    /// lands on a scalar boundary.
    static func utf8Offsets(of text: String) -> [Int] {
        var offsets: [Int] = []
        offsets.reserveCapacity(text.utf16.count + 1)
        var utf8 = 0
        for scalar in text.unicodeScalars {
            let width = UTF8.width(scalar)
            offsets.append(utf8)
            if scalar.value > 0xFFFF { offsets.append(utf8 + width) }
            utf8 += width
        }
        offsets.append(utf8)
        return offsets
    }
}
