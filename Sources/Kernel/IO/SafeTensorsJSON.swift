/// The small, strict JSON reader and string quoting the safetensors header needs.
///
/// Foundation's `JSONSerialization` cannot tell `2` from `2.0` or `true` from `1`, loses key order and
/// silently keeps one of two duplicate keys; a header validator needs all of those. This reader keeps
/// numbers as their literal text, objects as ordered pairs, rejects duplicate keys, limits nesting (no stack
/// overflow on hostile input) and reports the byte offset of the first error.
enum SafeTensorsJSON {
    indirect enum Value {
        case null
        case bool(Bool)
        /// The number's literal text, exactly as in the document (validated against the JSON grammar).
        case number(String)
        case string(String)
        case array([Value])
        case object([(key: String, value: Value)])

        /// A short phrase naming the kind and, for scalars, the value: for error messages.
        var summary: String {
            switch self {
            case .null: return "null"
            case .bool(let b): return "\(b)"
            case .number(let text): return "number \(text)"
            case .string(let s): return "string \"\(s.count > 40 ? String(s.prefix(40)) + "..." : s)\""
            case .array(let items): return "an array of \(items.count)"
            case .object: return "an object"
            }
        }

        /// The value as an `Int` when it is an integer literal (no fraction, no exponent) that fits.
        var integer: Int? {
            guard case .number(let text) = self,
                !text.contains("."), !text.contains("e"), !text.contains("E")
            else { return nil }
            return Int(text)
        }
    }

    struct SyntaxError: Error {
        let message: String
        let offset: Int
        var description: String { "\(message) at byte \(offset) of the header" }
    }

    /// Parses one JSON value filling all of `bytes` (surrounding whitespace allowed). `bytes` must already
    /// be valid UTF-8.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> Value {
        var parser = Parser(bytes: bytes.bindMemory(to: UInt8.self))
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.position < parser.bytes.count { throw parser.error("unexpected content after the JSON value") }
        return value
    }

    private static let maximumDepth = 64

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        func error(_ message: String) -> SyntaxError { SyntaxError(message: message, offset: position) }

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while let c = current, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { position += 1 }
        }

        mutating func expect(_ literal: String, _ value: Value) throws -> Value {
            for byte in literal.utf8 {
                guard current == byte else { throw error("invalid literal (expected '\(literal)')") }
                position += 1
            }
            return value
        }

        mutating func parseValue(depth: Int) throws -> Value {
            guard depth < SafeTensorsJSON.maximumDepth else {
                throw error("nesting deeper than \(SafeTensorsJSON.maximumDepth) levels")
            }
            guard let c = current else { throw error("unexpected end of input") }
            switch c {
            case UInt8(ascii: "{"): return try parseObject(depth: depth)
            case UInt8(ascii: "["): return try parseArray(depth: depth)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): return try expect("true", .bool(true))
            case UInt8(ascii: "f"): return try expect("false", .bool(false))
            case UInt8(ascii: "n"): return try expect("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
            default: throw error("unexpected character '\(Character(Unicode.Scalar(c)))'")
            }
        }

        mutating func parseObject(depth: Int) throws -> Value {
            position += 1  // {
            var pairs: [(key: String, value: Value)] = []
            var seen = Set<String>()
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                position += 1
                return .object(pairs)
            }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let keyStart = position
                let key = try parseString()
                guard seen.insert(key).inserted else {
                    throw SyntaxError(message: "duplicate key \"\(key)\"", offset: keyStart)
                }
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw error("expected ':' after key \"\(key)\"") }
                position += 1
                skipWhitespace()
                pairs.append((key, try parseValue(depth: depth + 1)))
                skipWhitespace()
                if current == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                if current == UInt8(ascii: "}") {
                    position += 1
                    return .object(pairs)
                }
                throw error("expected ',' or '}' in object")
            }
        }

        mutating func parseArray(depth: Int) throws -> Value {
            position += 1  // [
            var items: [Value] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                position += 1
                return .array(items)
            }
            while true {
                skipWhitespace()
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                if current == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                if current == UInt8(ascii: "]") {
                    position += 1
                    return .array(items)
                }
                throw error("expected ',' or ']' in array")
            }
        }

        mutating func parseNumber() throws -> Value {
            let start = position
            func isDigit(_ c: UInt8?) -> Bool { c.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
            if current == UInt8(ascii: "-") { position += 1 }
            if current == UInt8(ascii: "0") {
                position += 1
            } else if isDigit(current) {
                while isDigit(current) { position += 1 }
            } else {
                throw error("invalid number")
            }
            if current == UInt8(ascii: ".") {
                position += 1
                guard isDigit(current) else { throw error("invalid number: digits expected after '.'") }
                while isDigit(current) { position += 1 }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                position += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
                guard isDigit(current) else { throw error("invalid number: digits expected in exponent") }
                while isDigit(current) { position += 1 }
            }
            return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self))
        }

        mutating func parseHex4() throws -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let c = current else { throw error("unexpected end of input in \\u escape") }
                let digit: UInt8
                switch c {
                case 0x30...0x39: digit = c - 0x30
                case 0x41...0x46: digit = c - 0x41 + 10
                case 0x61...0x66: digit = c - 0x61 + 10
                default: throw error("invalid hex digit in \\u escape")
                }
                value = value << 4 | UInt32(digit)
                position += 1
            }
            return value
        }

        mutating func parseString() throws -> String {
            position += 1  // opening quote
            var utf8: [UInt8] = []
            while true {
                guard let c = current else { throw error("unterminated string") }
                if c == UInt8(ascii: "\"") {
                    position += 1
                    break
                }
                if c < 0x20 { throw error("unescaped control character in string") }
                if c != UInt8(ascii: "\\") {
                    utf8.append(c)
                    position += 1
                    continue
                }
                position += 1
                guard let escape = current else { throw error("unterminated escape") }
                position += 1
                switch escape {
                case UInt8(ascii: "\""): utf8.append(0x22)
                case UInt8(ascii: "\\"): utf8.append(0x5C)
                case UInt8(ascii: "/"): utf8.append(0x2F)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try parseHex4()
                    if (0xD800..<0xDC00).contains(code) {
                        guard current == UInt8(ascii: "\\") else { throw error("unpaired surrogate in \\u escape") }
                        position += 1
                        guard current == UInt8(ascii: "u") else { throw error("unpaired surrogate in \\u escape") }
                        position += 1
                        let low = try parseHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in \\u escape") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(code) {
                        throw error("unpaired surrogate in \\u escape")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                    utf8.append(contentsOf: String(Character(scalar)).utf8)
                default:
                    throw error("invalid escape '\\\(Character(Unicode.Scalar(escape)))'")
                }
            }
            return String(decoding: utf8, as: UTF8.self)
        }
    }
}
