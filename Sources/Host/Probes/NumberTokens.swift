import Kernel

/// Which vocabulary entries are "number tokens" for the counting-bias probe: digits, ordinals, simple
/// decimals and number words (zero..twenty, thirty..ninety, hundred, thousand, million, billion), as in the
/// study. Works on any tokenizer through `tokenText`: byte-level BPE pieces such as " 12" or "Ġtwenty" are
/// trimmed of spaces and the byte-level space marker first.
public enum NumberTokens {
    public static let words: Set<String> = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty",
        "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "million", "billion",
    ]
    public static let ordinalWords: Set<String> = [
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
        "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth",
        "nineteenth", "twentieth",
    ]

    /// Whether one token's text is a number token.
    public static func isNumber(_ tokenText: String) -> Bool {
        // Strip spaces and the byte-level/sentencepiece space markers before lowercasing (which would turn
        // the marker U+0120 into U+0121).
        var t = tokenText
        t.removeAll { $0 == " " || $0 == "\u{0120}" || $0 == "\u{2581}" || $0 == "\t" || $0 == "\n" }
        t = t.lowercased()
        guard !t.isEmpty else { return false }
        if words.contains(t) || ordinalWords.contains(t) { return true }
        let digits = t.prefix { $0.isASCII && $0.isNumber }
        if digits.count == t.count { return true }  // "7", "12", "2024"
        let rest = t.dropFirst(digits.count)
        if !digits.isEmpty && ["st", "nd", "rd", "th"].contains(String(rest)) { return true }  // "1st", "22nd"
        if !digits.isEmpty, rest.first == ".", rest.count > 1,
            rest.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber })
        {
            return true
        }  // "3.5"
        return false
    }

    /// The ids of a tokenizer's number tokens.
    public static func ids(in tokenizer: any Tokenizer) -> [Int32] {
        (0..<Int32(tokenizer.vocabularySize)).filter { id in tokenizer.tokenText(id).map(isNumber) ?? false }
    }
}
