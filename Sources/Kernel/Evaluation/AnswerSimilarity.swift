/// Graded answer scores of document and chart benchmarks, as lmms-eval computes them: ANLS (DocVQA, InfoVQA)
/// and relaxed accuracy (ChartQA). Strings are compared as sequences of Unicode scalars, as Python compares
/// `str`, not by Swift's canonical equivalence.
public enum AnswerSimilarity {
    /// The Levenshtein distance between `a` and `b` over Unicode scalars: the fewest insertions, deletions and
    /// substitutions (each costing 1) that turn one into the other. O(|a|·|b|) time (after removing a common
    /// prefix and suffix), O(min(|a|, |b|)) memory.
    public static func levenshtein(_ a: String, _ b: String) -> Int {
        levenshtein(Array(a.unicodeScalars), Array(b.unicodeScalars))
    }

    static func levenshtein(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        // A common prefix and suffix never need an edit: equal or nearly equal texts cost O(n).
        var start = 0
        while start < a.count && start < b.count && a[start] == b[start] { start += 1 }
        var endA = a.count
        var endB = b.count
        while endA > start && endB > start && a[endA - 1] == b[endB - 1] {
            endA -= 1
            endB -= 1
        }
        let (short, long) =
            endA - start <= endB - start ? (a[start..<endA], b[start..<endB]) : (b[start..<endB], a[start..<endA])
        if short.isEmpty { return long.count }
        var previous = Array(0...short.count)
        var current = [Int](repeating: 0, count: short.count + 1)
        for (j, c) in long.enumerated() {
            current[0] = j + 1
            for (i, s) in short.enumerated() {
                current[i + 1] = s == c ? previous[i] : 1 + min(previous[i], previous[i + 1], current[i])
            }
            swap(&previous, &current)
        }
        return previous[short.count]
    }

    /// Average Normalized Levenshtein Similarity of one prediction, as lmms-eval's `anls` metric:
    /// both texts are stripped, lowercased and their whitespace runs collapsed to one space; for each reference
    /// `NL = levenshtein(reference', prediction') / max(len(reference), len(prediction))` (lengths of the raw
    /// texts, uppercased, in Unicode scalars; NL = 0 when both are empty); the score is `1 - min NL` over the
    /// references, and 0 when that is below `threshold`. So NL = 0.5 still scores 0.5 (the ANLS paper's
    /// `NL < τ` would give 0). No references score 0.
    public static func anls(prediction: String, references: [String], threshold: Double = 0.5) -> Double {
        guard !references.isEmpty else { return 0 }
        let predicted = Array(anlsNormalized(prediction).unicodeScalars)
        let predictedLength = prediction.uppercased().unicodeScalars.count
        var smallest = Double.infinity
        for reference in references {
            let distance = levenshtein(Array(anlsNormalized(reference).unicodeScalars), predicted)
            let length = max(reference.uppercased().unicodeScalars.count, predictedLength)
            smallest = min(smallest, length == 0 ? 0 : Double(distance) / Double(length))
        }
        let score = 1 - smallest
        return score < threshold ? 0 : score
    }

    /// Whitespace as Python's `str.split()` and `str.strip()` see it: Unicode White_Space plus the ASCII
    /// file, group, record and unit separators.
    static func isPythonWhitespace(_ s: Unicode.Scalar) -> Bool {
        s.properties.isWhitespace || (0x1C...0x1F).contains(s.value)
    }

    /// `" ".join(text.strip().lower().split())`.
    static func anlsNormalized(_ text: String) -> String {
        var words: [String] = []
        var word = String.UnicodeScalarView()
        for scalar in text.lowercased().unicodeScalars {
            if isPythonWhitespace(scalar) {
                if !word.isEmpty {
                    words.append(String(word))
                    word = String.UnicodeScalarView()
                }
            } else {
                word.append(scalar)
            }
        }
        if !word.isEmpty { words.append(String(word)) }
        return words.joined(separator: " ")
    }

    /// ChartQA's relaxed correctness, as lmms-eval's `relaxed_correctness`: when both texts read as numbers
    /// (`pythonNumber`; a trailing `%` divides by 100) and the target is not zero, correct iff
    /// `|prediction - target| / |target| <= maxRelativeChange`; otherwise correct iff the lowercased texts are
    /// equal (no trimming: callers strip generated text first, as lmms-eval's models do).
    public static func relaxedCorrectness(prediction: String, target: String, maxRelativeChange: Double = 0.05) -> Bool
    {
        if let p = percentOrNumber(prediction), let t = percentOrNumber(target), t != 0 {
            return abs(p - t) / abs(t) <= maxRelativeChange
        }
        return Array(prediction.lowercased().unicodeScalars) == Array(target.lowercased().unicodeScalars)
    }

    /// `float(text.rstrip("%")) / 100` when `text` ends with `%`, else `float(text)`, or nil.
    static func percentOrNumber(_ text: String) -> Double? {
        guard text.hasSuffix("%") else { return pythonNumber(text) }
        var scalars = Substring(text).unicodeScalars
        while scalars.last == "%" { scalars.removeLast() }
        return pythonNumber(String(scalars)).map { $0 / 100 }
    }

    /// The number Python's `float(text)` reads, or nil where it raises: surrounding whitespace is ignored
    /// (ASCII space, tab, line feed, vertical tab, form feed, carriage return, and non-ASCII Unicode spaces);
    /// an optional sign; `inf`, `infinity` or `nan` in any case; or ASCII digits with an optional fraction
    /// (`5.`, `.5`) and exponent (`1e-3`), with single underscores allowed between digits. (Python also
    /// reads non-ASCII decimal digits; they are refused here.)
    public static func pythonNumber(_ text: String) -> Double? {
        // float() strips ASCII " \t\n\v\f\r" and non-ASCII Unicode whitespace (not the ASCII separators).
        func isSpace(_ s: Unicode.Scalar) -> Bool {
            s.isASCII ? " \t\n\u{B}\u{C}\r".unicodeScalars.contains(s) : s.properties.isWhitespace
        }
        var scalars = Substring(text).unicodeScalars
        while let first = scalars.first, isSpace(first) { scalars.removeFirst() }
        while let last = scalars.last, isSpace(last) { scalars.removeLast() }
        var chars = Array(scalars)
        var negative = false
        if let sign = chars.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            chars.removeFirst()
        }
        let word = String(String.UnicodeScalarView(chars)).lowercased()
        if word == "inf" || word == "infinity" { return negative ? -.infinity : .infinity }
        if word == "nan" { return .nan }

        var i = 0
        /// Digits with single underscores between them, from `i`; nil when malformed. Empty when none.
        func digits() -> String? {
            var out = ""
            while i < chars.count {
                let c = chars[i]
                if c.isASCII && c.properties.numericType == .decimal {
                    out.unicodeScalars.append(c)
                    i += 1
                } else if c == "_" {
                    // An underscore must sit between two digits.
                    guard !out.isEmpty, i + 1 < chars.count, chars[i + 1].isASCII,
                        chars[i + 1].properties.numericType == .decimal
                    else { return nil }
                    i += 1
                } else {
                    break
                }
            }
            return out
        }
        guard let whole = digits() else { return nil }
        var fraction = ""
        if i < chars.count && chars[i] == "." {
            i += 1
            guard let f = digits() else { return nil }
            fraction = f
        }
        guard !whole.isEmpty || !fraction.isEmpty else { return nil }
        var exponent = ""
        if i < chars.count && (chars[i] == "e" || chars[i] == "E") {
            i += 1
            var sign = ""
            if i < chars.count && (chars[i] == "+" || chars[i] == "-") {
                sign = String(chars[i])
                i += 1
            }
            guard let e = digits(), !e.isEmpty else { return nil }
            exponent = "e" + sign + e
        }
        guard i == chars.count else { return nil }
        let literal = (whole.isEmpty ? "0" : whole) + "." + (fraction.isEmpty ? "0" : fraction) + exponent
        guard let value = Double(literal) else { return nil }
        return negative ? -value : value
    }
}
