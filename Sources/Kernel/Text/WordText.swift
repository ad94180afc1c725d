/// The rule that splits text into the words of a closed, word-level vocabulary, and joins words back into text.
///
/// Splitting (`words(in:)`):
/// 1. Text is lowercased.
/// 2. A tag in angle brackets made of letters, digits and `_` (`<image>`, `<eos>`) is one word.
/// 3. A run of letters a-z (any letters, in fact) is one word: "circles" -> ["circles"].
/// 4. Every digit is a word of its own: "12" -> ["1", "2"]; "07:45" -> ["0", "7", ":", "4", "5"].
/// 5. Every other visible character (`.` `,` `?` `:` `!` `(` `)` `-` `'` `/` ...) is a word of its own.
/// 6. Whitespace separates words and is dropped.
///
/// Joining (`join(_:)`) undoes the split up to case and spacing: words are separated by one space, except that
/// no space goes before `. , ? ! : ; ) %` or after `(`, none around `-` and `/`, digits next to digits join
/// ("1","2" -> "12"), and a `:` or `.` between digits joins both sides ("07:45", "3.5").
public enum WordText {
    /// The words of `text` by the rule above.
    public static func words(in text: String) -> [String] {
        var result: [String] = []
        var current = ""
        let chars = Array(text.lowercased())
        var i = 0
        func flush() {
            if !current.isEmpty {
                result.append(current)
                current = ""
            }
        }
        while i < chars.count {
            let c = chars[i]
            if c == "<", let end = tagEnd(chars, from: i) {
                flush()
                result.append(String(chars[i...end]))
                i = end + 1
                continue
            }
            if c.isLetter {
                current.append(c)
            } else {
                flush()
                if !c.isWhitespace { result.append(String(c)) }
            }
            i += 1
        }
        flush()
        return result
    }

    /// The index of the `>` closing a tag that starts at `start`, or nil when the characters do not form a tag.
    private static func tagEnd(_ chars: [Character], from start: Int) -> Int? {
        var j = start + 1
        while j < chars.count, j - start <= 32 {
            let c = chars[j]
            if c == ">" { return j > start + 1 ? j : nil }
            guard c.isLetter || c.isNumber || c == "_" || c == "|" else { return nil }
            j += 1
        }
        return nil
    }

    private static let noSpaceBefore: Set<String> = [".", ",", "?", "!", ":", ";", ")", "%", "-", "/"]
    private static let noSpaceAfter: Set<String> = ["(", "-", "/"]

    /// Words joined back into text by the rule above.
    public static func join<S: Sequence>(_ words: S) -> String where S.Element == String {
        let list = Array(words)
        var text = ""
        for (i, word) in list.enumerated() {
            if i > 0 && !gluedToPrevious(list, i) { text.append(" ") }
            text.append(word)
        }
        return text
    }

    private static func isDigit(_ w: String) -> Bool { w.count == 1 && w.first!.isASCII && w.first!.isNumber }

    private static func gluedToPrevious(_ list: [String], _ i: Int) -> Bool {
        let previous = list[i - 1]
        let word = list[i]
        if noSpaceBefore.contains(word) || noSpaceAfter.contains(previous) { return true }
        if isDigit(previous) && isDigit(word) { return true }
        // "7 : 4 5" -> "7:45" and "3 . 5" -> "3.5": a separator between digits joins on both sides.
        if isDigit(word) && i >= 2 && (previous == ":" || previous == ".") && isDigit(list[i - 2]) { return true }
        return false
    }

    /// `text` in canonical form: split, then joined (lowercase, single spaces, standard punctuation spacing).
    public static func canonical(_ text: String) -> String { join(words(in: text)) }
}
