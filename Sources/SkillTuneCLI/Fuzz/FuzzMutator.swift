import Host
import Kernel

/// Seeded mutations of byte strings for `skilltune fuzz`: bit flips, byte insertions and deletions, copies
/// of a range, splices with another input, "interesting" integers written over 1-8 bytes (little- and
/// big-endian, as length fields are), dictionary words, and for JSON inputs mutations that keep the
/// structure (replace a number, a string or a whole value; duplicate, delete or deeply nest a value).
///
/// Everything depends only on the generator, so a seed reproduces a run exactly.
public struct FuzzMutator {
    public var generator: RandomGenerator
    /// Words worth inserting for this parser (keys, magic numbers, hostile literals).
    public var dictionary: [[UInt8]]
    /// Inputs grow to at most this many bytes.
    public var maximumLength: Int

    public init(seed: UInt64, dictionary: [String] = [], maximumLength: Int = 1 << 16) {
        generator = RandomGenerator(seed: seed)
        self.dictionary = dictionary.map { Array($0.utf8) }
        self.maximumLength = maximumLength
    }

    /// Integers that break size arithmetic: zero, one, signed and unsigned edges of every width, and powers of two.
    public static let interestingIntegers: [UInt64] = {
        var values: [UInt64] = [
            0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 63, 64, 100, 127, 128, 255, 256, 1000, 1024, 4095, 4096,
            32767, 32768, 65535, 65536, 100_000_000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
            0x1_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, UInt64.max, UInt64.max - 1,
        ]
        for shift in stride(from: 8, to: 64, by: 4) { values.append(1 << UInt64(shift)) }
        return values
    }()

    /// Number literals that break JSON readers and the code after them.
    public static let interestingNumbers = [
        "0", "-0", "1", "-1", "2", "3", "4", "8", "16", "255", "256", "65535", "65536", "2147483647", "2147483648",
        "-2147483648", "4294967295", "4294967296", "9007199254740993", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616",
        "99999999999999999999999999999", "1e308", "1e309", "-1e309", "1e-400", "0.5", "1.0", "2.0", "1e2", "1E+2",
        "0.0000001", "3.4028236e38", "NaN", "Infinity", "-Infinity", "1.7976931348623157e308", "4.9e-324", "00", "01",
        "1.", ".5", "+1", "0x10", "1e", "-", "16777216", "16777217", "1048576", "1073741824",
    ]

    /// String literals (JSON-quoted) for the same purpose.
    public static let interestingStrings = [
        "\"\"", "\" \"", "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"\\uffff\"", "\"\\ufeff\"", "\"é\"",
        "\"<image>\"", "\"../../../../etc/passwd\"", "\"/dev/zero\"", "\"/dev/urandom\"", "\"/proc/self/mem\"", "\".\"",
        "\"/\"", "\"a\\\\b\"", "\"\\\"\"", "\"(a+)+$\"", "\"[\"", "\"\\\\p{L}+\"", "\"(?i:\"", "\"F32\"", "\"BF16\"",
        "\"F16\"", "\"I64\"", "\"U8\"", "\"BOOL\"", "\"F64\"", "\"LORA\"", "\"llama\"", "\"qwen2\"", "\"tiny-llava\"",
        "\"ByteLevel\"", "\"BPE\"", "\"Sequence\"", "\"Split\"", "\"Digits\"", "\"NFC\"", "\"train\"", "\"eval\"",
        "\"" + String(repeating: "x", count: 300) + "\"",
    ]

    /// Whole JSON values to drop in place of another.
    public static let interestingValues = [
        "null", "true", "false", "{}", "[]", "[[]]", "{\"\":{}}", "[0]", "[-1]", "[1,2]", "[0,0]",
        "[4294967296,4294967296,4294967296]", "[9223372036854775807,2]", "[1e309]", "{\"a\":1,\"a\":2}",
        String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
        String(repeating: "{\"a\":", count: 300) + "1" + String(repeating: "}", count: 300),
    ]

    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : generator.int(below: n) }
    mutating func chance(_ p: Double) -> Bool { Double(generator.next() >> 11) * 0x1p-53 < p }

    /// One to `stack` random byte-level mutations of `input`; `other` feeds splices.
    public mutating func mutateBytes(_ input: [UInt8], other: [UInt8], stack: Int = 4) -> [UInt8] {
        var data = input
        for _ in 0..<(1 + below(stack)) { mutateOnce(&data, other: other) }
        if data.count > maximumLength { data.removeLast(data.count - maximumLength) }
        return data
    }

    mutating func mutateOnce(_ data: inout [UInt8], other: [UInt8]) {
        let choice = below(11)
        if data.isEmpty && choice != 3 && choice != 10 {
            data = Array(other.prefix(64))
            if data.isEmpty { data = [UInt8(truncatingIfNeeded: generator.next())] }
            return
        }
        switch choice {
        case 0:  // flip one bit
            let i = below(data.count)
            data[i] ^= UInt8(1) << UInt8(below(8))
        case 1:  // random byte
            data[below(data.count)] = UInt8(truncatingIfNeeded: generator.next())
        case 2:  // delete a range
            let start = below(data.count)
            let length = 1 + below(min(16, data.count - start))
            data.removeSubrange(start..<(start + length))
        case 3:  // insert random bytes
            let at = below(data.count + 1)
            let n = 1 + below(8)
            data.insert(contentsOf: (0..<n).map { _ in UInt8(truncatingIfNeeded: generator.next()) }, at: at)
        case 4:  // copy a range elsewhere
            let start = below(data.count)
            let length = 1 + below(min(64, data.count - start))
            let chunk = Array(data[start..<(start + length)])
            data.insert(contentsOf: chunk, at: below(data.count + 1))
        case 5, 6:  // interesting integer over 1, 2, 4 or 8 bytes, either endianness
            writeInteresting(&data, at: below(data.count))
        case 7:  // splice: our head, the other's tail
            guard !other.isEmpty else { return }
            let cut = below(data.count + 1)
            let from = below(other.count)
            data = Array(data[..<cut]) + Array(other[from...])
        case 8, 9:  // dictionary word, inserted or written over
            guard !dictionary.isEmpty else { return }
            let word = dictionary[below(dictionary.count)]
            let at = below(data.count + 1)
            if chance(0.5) || at + word.count > data.count {
                data.insert(contentsOf: word, at: at)
            } else {
                data.replaceSubrange(at..<(at + word.count), with: word)
            }
        default:  // truncate
            data.removeLast(below(data.count + 1))
        }
    }

    mutating func writeInteresting(_ data: inout [UInt8], at position: Int) {
        var value = Self.interestingIntegers[below(Self.interestingIntegers.count)]
        if chance(0.2) { value = value &+ UInt64(bitPattern: Int64(below(5) - 2)) }
        let width = [1, 2, 4, 8][below(4)]
        let bigEndian = chance(0.5)
        for k in 0..<width where position + k < data.count {
            let shift = UInt64(8 * (bigEndian ? width - 1 - k : k))
            data[position + k] = UInt8(truncatingIfNeeded: value >> shift)
        }
    }

    // MARK: JSON

    /// A mutation of JSON text that keeps most of its structure (falls back to a byte mutation now and then,
    /// and when the text has no token to work on).
    public mutating func mutateJSON(_ input: [UInt8], other: [UInt8]) -> [UInt8] {
        var data = input
        for _ in 0..<(1 + below(3)) {
            let tokens = JSONTokens.scan(data)
            if tokens.isEmpty || chance(0.2) {
                mutateOnce(&data, other: other)
                continue
            }
            let token = tokens[below(tokens.count)]
            switch below(7) {
            case 0:  // a number becomes another
                let numbers = tokens.filter { $0.kind == .number }
                let target = numbers.isEmpty ? token : numbers[below(numbers.count)]
                data.replaceSubrange(
                    target.range, with: Array(Self.interestingNumbers[below(Self.interestingNumbers.count)].utf8))
            case 1:  // a string becomes another (dictionary words count as strings)
                let strings = tokens.filter { $0.kind == .string }
                let target = strings.isEmpty ? token : strings[below(strings.count)]
                var replacement = Array(Self.interestingStrings[below(Self.interestingStrings.count)].utf8)
                if !dictionary.isEmpty && chance(0.5) {
                    replacement = [0x22] + dictionary[below(dictionary.count)] + [0x22]
                }
                data.replaceSubrange(target.range, with: replacement)
            case 2:  // any value becomes a hostile one
                data.replaceSubrange(
                    JSONTokens.valueRange(data, startingAt: token),
                    with: Array(Self.interestingValues[below(Self.interestingValues.count)].utf8))
            case 3:
                // A value is duplicated next to itself ("k": v -> "k": v, v is usually invalid; in arrays it grows
                // them).
                let range = JSONTokens.valueRange(data, startingAt: token)
                let copy = Array(data[range])
                data.insert(contentsOf: copy + [UInt8(ascii: ",")], at: range.lowerBound)
            case 4:  // a value is deleted
                data.removeSubrange(JSONTokens.valueRange(data, startingAt: token))
            case 5:  // a value is nested deeply
                let range = JSONTokens.valueRange(data, startingAt: token)
                let depth = [2, 8, 64, 300, 2000][below(5)]
                data.insert(contentsOf: [UInt8](repeating: UInt8(ascii: "]"), count: depth), at: range.upperBound)
                data.insert(contentsOf: [UInt8](repeating: UInt8(ascii: "["), count: depth), at: range.lowerBound)
            default:  // a value is replaced by one from the other input
                let otherTokens = JSONTokens.scan(other)
                guard !otherTokens.isEmpty else { continue }
                let source = JSONTokens.valueRange(other, startingAt: otherTokens[below(otherTokens.count)])
                data.replaceSubrange(JSONTokens.valueRange(data, startingAt: token), with: Array(other[source]))
            }
            if data.count > maximumLength { data.removeLast(data.count - maximumLength) }
        }
        return data
    }
}

/// A forgiving JSON tokenizer for mutations: the positions of strings, numbers, literals and brackets.
enum JSONTokens {
    enum Kind { case string, number, literal, open, close }
    struct Token {
        var kind: Kind
        var range: Range<Int>
    }

    static func scan(_ data: [UInt8]) -> [Token] {
        var tokens: [Token] = []
        var i = 0
        while i < data.count && tokens.count < 4096 {
            let c = data[i]
            switch c {
            case UInt8(ascii: "\""):
                var j = i + 1
                while j < data.count && data[j] != UInt8(ascii: "\"") { j += data[j] == UInt8(ascii: "\\") ? 2 : 1 }
                let end = min(j + 1, data.count)
                tokens.append(Token(kind: .string, range: i..<end))
                i = end
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                var j = i + 1
                while j < data.count, "0123456789.eE+-".utf8.contains(data[j]) { j += 1 }
                tokens.append(Token(kind: .number, range: i..<j))
                i = j
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                var j = i + 1
                while j < data.count, data[j] >= UInt8(ascii: "a"), data[j] <= UInt8(ascii: "z") { j += 1 }
                tokens.append(Token(kind: .literal, range: i..<j))
                i = j
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                tokens.append(Token(kind: .open, range: i..<(i + 1)))
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                tokens.append(Token(kind: .close, range: i..<(i + 1)))
                i += 1
            default:
                i += 1
            }
        }
        return tokens
    }

    /// The whole value starting at `token`: a scalar, or an object/array up to its matching bracket.
    static func valueRange(_ data: [UInt8], startingAt token: Token) -> Range<Int> {
        guard token.kind == .open else { return token.range }
        var depth = 0
        var i = token.range.lowerBound
        var inString = false
        while i < data.count {
            let c = data[i]
            if inString {
                if c == UInt8(ascii: "\\") { i += 1 } else if c == UInt8(ascii: "\"") { inString = false }
            } else if c == UInt8(ascii: "\"") {
                inString = true
            } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                depth += 1
            } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                depth -= 1
                if depth == 0 { return token.range.lowerBound..<(i + 1) }
            }
            i += 1
        }
        return token.range.lowerBound..<data.count
    }
}
