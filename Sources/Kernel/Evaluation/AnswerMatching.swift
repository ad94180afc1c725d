/// Reading answers out of free-form predictions: the rules benchmarks score with (letter for multiple choice,
/// integer with number words accepted, yes/no, clock times, normalized text). Every reader is case-insensitive,
/// ignores extra whitespace and a trailing period, and returns nil for a malformed prediction.
public enum AnswerMatching {
    /// Lowercase, single-spaced text with the trailing periods and exclamation marks removed ("Blue." -> "blue").
    public static func normalized(_ text: String) -> String {
        var words = WordText.words(in: text)
        while let last = words.last, last == "." || last == "!" { words.removeLast() }
        return WordText.join(words)
    }

    /// `normalized(text)` without a leading article ("the red one." -> "red one").
    public static func normalizedWithoutArticle(_ text: String) -> String {
        var words = WordText.words(in: normalized(text))
        if let first = words.first, ["the", "a", "an"].contains(first), words.count > 1 { words.removeFirst() }
        return WordText.join(words)
    }

    /// The option letter a prediction chooses, uppercased, or nil. Accepted: "B", "b.", "(B)", "B) blue",
    /// "B. blue", "Answer: B", "option B". Refused: "b blue" and "a red circle" (a word, not a choice), "AB".
    public static func choiceLetter(in prediction: String) -> Character? {
        var words = WordText.words(in: prediction)[...]
        if words.first == "answer" {
            words = words.dropFirst()
            if words.first == ":" || words.first == "is" { words = words.dropFirst() }
        }
        if words.first == "option" { words = words.dropFirst() }
        var bracketed = false
        if words.first == "(" {
            words = words.dropFirst()
            bracketed = true
        }
        guard let letter = words.first, letter.count == 1, let c = letter.first, c.isASCII, c.isLetter else {
            return nil
        }
        let rest = words.dropFirst()
        if let next = rest.first {
            let closers: Set<String> = bracketed ? [")"] : [")", ".", ":", ","]
            guard closers.contains(next) else { return nil }
        } else if bracketed {
            return nil
        }
        return Character(c.uppercased())
    }

    /// "yes" or "no" as the first word of a prediction ("Yes, it is." -> true), or nil.
    public static func yesNo(in prediction: String) -> Bool? {
        switch WordText.words(in: prediction).first {
        case "yes": return true
        case "no": return false
        default: return nil
        }
    }

    private static let units: [String: Int] = [
        "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
        "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
        "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "none": 0, "no": 0,
    ]
    private static let tens: [String: Int] = [
        "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    ]
    private static let scales: [String: Int] = ["hundred": 100, "thousand": 1000, "million": 1_000_000]

    /// The number words counted as numbers (zero..nineteen, twenty..ninety, hundred, thousand, million).
    public static var numberWords: [String] {
        Array(units.keys.filter { $0 != "none" && $0 != "no" }) + Array(tens.keys) + Array(scales.keys)
    }

    /// The first whole number in a prediction, written in digits ("There are 12 circles.") or in words
    /// ("twelve", "twenty-one", "one hundred and five", and "no"/"none" for 0), or nil.
    public static func integer(in prediction: String) -> Int? {
        let words = WordText.words(in: prediction)
        var i = 0
        while i < words.count {
            let w = words[i]
            if w.count == 1, w.first!.isASCII, w.first!.isNumber {
                var value = 0
                var digits = 0
                while i < words.count, words[i].count == 1, let d = words[i].first?.wholeNumberValue,
                    words[i].first!.isASCII
                {
                    value = value * 10 + d
                    digits += 1
                    i += 1
                    if digits > 15 { return nil }
                }
                return value
            }
            if units[w] != nil || tens[w] != nil {
                return numberFromWords(words, start: i)
            }
            i += 1
        }
        return nil
    }

    private static func numberFromWords(_ words: [String], start: Int) -> Int {
        var total = 0
        var current = 0
        var i = start
        while i < words.count {
            let w = words[i]
            if let u = units[w] {
                current += u
                if w == "no" || w == "none" { break }
            } else if let t = tens[w] {
                current += t
            } else if let s = scales[w] {
                current = max(current, 1) * s
                if s >= 1000 {
                    total += current
                    current = 0
                }
            } else if (w == "-" || w == "and") && i + 1 < words.count
                && (units[words[i + 1]] != nil || tens[words[i + 1]] != nil)
            {
                // "twenty-one", "hundred and five"
            } else {
                break
            }
            i += 1
        }
        return total + current
    }

    /// The first decimal number in a prediction ("-3.25", "about 7", "seven"), or nil.
    public static func number(in prediction: String) -> Double? {
        let text = normalized(prediction)
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            if chars[i].isASCII && chars[i].isNumber {
                var j = i
                while j < chars.count, chars[j].isASCII, chars[j].isNumber { j += 1 }
                if j + 1 < chars.count, chars[j] == ".", chars[j + 1].isASCII, chars[j + 1].isNumber {
                    j += 1
                    while j < chars.count, chars[j].isASCII, chars[j].isNumber { j += 1 }
                }
                let negative = i > 0 && chars[i - 1] == "-" && (i == 1 || chars[i - 2] == " ")
                guard let value = Double(String(chars[i..<j])) else { return nil }
                return negative ? -value : value
            }
            i += 1
        }
        return integer(in: prediction).map(Double.init)
    }

    /// A clock time "H:MM" or "HH:MM" in a prediction, as (hour 0...23, minute 0...59), or nil. Spaces are
    /// ignored ("0 7 : 4 5" reads as 07:45).
    public static func clockTime(in prediction: String) -> (hour: Int, minute: Int)? {
        let chars = Array(prediction.filter { !$0.isWhitespace })
        func isDigit(_ i: Int) -> Bool { i >= 0 && i < chars.count && chars[i].isASCII && chars[i].isNumber }
        guard let colon = chars.firstIndex(of: ":") else { return nil }
        var h = colon
        while isDigit(h - 1), colon - h < 2 { h -= 1 }
        // One or two hour digits, exactly two minute digits, and no digit glued on either side.
        guard colon - h >= 1, !isDigit(h - 1), isDigit(colon + 1), isDigit(colon + 2), !isDigit(colon + 3) else {
            return nil
        }
        guard let hour = Int(String(chars[h..<colon])), let minute = Int(String(chars[(colon + 1)...(colon + 2)])),
            hour <= 23, minute <= 59
        else { return nil }
        return (hour, minute)
    }
}
