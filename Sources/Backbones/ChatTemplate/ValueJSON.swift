import Foundation
import Kernel

/// JSON to template values and back, as Python's `json` module does it: objects keep their key order, `1` is an
/// int and `1.0` a float, and `dumps` writes what `json.dumps(x, ensure_ascii=False, indent, separators,
/// sort_keys=False)` writes (transformers' `tojson` filter).
public enum ValueJSON {
    /// Deeper documents are refused (the parser recurses once per level).
    public static let nestingLimit = 128

    /// Parses a JSON document. Errors name `source` and the byte offset.
    public static func parse(_ data: Data, source: String) throws -> Value {
        var parser = Parser(bytes: [UInt8](data), source: source)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.position == parser.bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    /// `json.dumps(value, ensure_ascii=False, indent=indent, separators=separators)`. With no separators, items
    /// are joined with ", " (or "," when indenting) and keys with ": ".
    /// The text stops growing past `maxLength` UTF-8 bytes: a render error, before indentation can multiply a
    /// value's size.
    static func dumps(
        _ value: Value, indent: String? = nil, itemSeparator: String? = nil, keySeparator: String = ": ",
        maxLength: Int = .max
    ) throws -> String {
        var out = ""
        try write(
            value, into: &out, indent: indent, level: 0,
            itemSeparator: itemSeparator ?? (indent == nil ? ", " : ","), keySeparator: keySeparator, depth: 0,
            maxLength: maxLength)
        return out
    }

    private static func write(
        _ value: Value, into out: inout String, indent: String?, level: Int,
        itemSeparator: String, keySeparator: String, depth: Int, maxLength: Int
    ) throws {
        guard depth < nestingLimit else { throw RenderFailure("tojson: the value is nested too deeply") }
        func tooLong() -> RenderFailure {
            RenderFailure("tojson's output would exceed \(maxLength) characters (RenderLimits.maxOutputLength)")
        }
        if out.utf8.count > maxLength { throw tooLong() }
        func newline(_ level: Int) throws {
            guard let indent else { return }
            let (width, overflow) = indent.utf8.count.multipliedReportingOverflow(by: level)
            if overflow || out.utf8.count + width >= maxLength { throw tooLong() }
            out += "\n" + String(repeating: indent, count: level)
        }
        switch value {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d.isNaN {
                out += "NaN"
            } else if d.isInfinite {
                out += d < 0 ? "-Infinity" : "Infinity"
            } else {
                out += PythonText.float(d)
            }
        case .string(let s): out += JSONString.literal(s)
        case .list(let items), .tuple(let items):
            if items.isEmpty {
                out += "[]"
                return
            }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += itemSeparator }
                try newline(level + 1)
                try write(
                    item, into: &out, indent: indent, level: level + 1, itemSeparator: itemSeparator,
                    keySeparator: keySeparator, depth: depth + 1, maxLength: maxLength)
            }
            try newline(level)
            out += "]"
        case .dict(let dict):
            if dict.isEmpty {
                out += "{}"
                return
            }
            out += "{"
            for (i, pair) in dict.pairs.enumerated() {
                if i > 0 { out += itemSeparator }
                try newline(level + 1)
                out += JSONString.literal(try key(pair.key)) + keySeparator
                try write(
                    pair.value, into: &out, indent: indent, level: level + 1, itemSeparator: itemSeparator,
                    keySeparator: keySeparator, depth: depth + 1, maxLength: maxLength)
            }
            try newline(level)
            out += "}"
        case .namespace, .callable, .undefined:
            throw RenderFailure("tojson: Object of type \(value.typeName) is not JSON serializable")
        }
    }

    /// Python's json turns int, float, bool and None keys into strings.
    private static func key(_ value: Value) throws -> String {
        switch value {
        case .string(let s): return s
        case .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int, .double: return PythonText.str(value)
        default: throw RenderFailure("tojson: keys must be str, int, float, bool or None, not \(value.typeName)")
        }
    }

    private struct Parser {
        let bytes: [UInt8]
        let source: String
        var position = 0

        init(bytes: [UInt8], source: String) {
            self.bytes = bytes
            self.source = source
        }

        func error(_ message: String) -> ChatTemplateError {
            ChatTemplateError(source: source, line: nil, column: nil, message: "\(message) (at byte \(position))")
        }

        mutating func skipSpace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        mutating func expect(_ word: String, _ result: Value) throws -> Value {
            let w = Array(word.utf8)
            guard position + w.count <= bytes.count, Array(bytes[position..<position + w.count]) == w else {
                throw error("invalid JSON value")
            }
            position += w.count
            return result
        }

        mutating func value(depth: Int) throws -> Value {
            guard depth < ValueJSON.nestingLimit else {
                throw error("JSON nested deeper than \(ValueJSON.nestingLimit) levels")
            }
            guard position < bytes.count else { throw error("unexpected end of JSON") }
            switch bytes[position] {
            case UInt8(ascii: "{"):
                position += 1
                var dict = OrderedDict()
                skipSpace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                    position += 1
                    return .dict(dict)
                }
                while true {
                    skipSpace()
                    guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                        throw error("expected a string key")
                    }
                    let key = try string()
                    skipSpace()
                    guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                        throw error("expected ':'")
                    }
                    position += 1
                    skipSpace()
                    dict[key] = try value(depth: depth + 1)
                    skipSpace()
                    guard position < bytes.count else { throw error("unexpected end of JSON in an object") }
                    if bytes[position] == UInt8(ascii: ",") {
                        position += 1
                        continue
                    }
                    if bytes[position] == UInt8(ascii: "}") {
                        position += 1
                        return .dict(dict)
                    }
                    throw error("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                position += 1
                var items: [Value] = []
                skipSpace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                    position += 1
                    return .list(items)
                }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard position < bytes.count else { throw error("unexpected end of JSON in an array") }
                    if bytes[position] == UInt8(ascii: ",") {
                        position += 1
                        continue
                    }
                    if bytes[position] == UInt8(ascii: "]") {
                        position += 1
                        return .list(items)
                    }
                    throw error("expected ',' or ']'")
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try expect("true", .bool(true))
            case UInt8(ascii: "f"): return try expect("false", .bool(false))
            case UInt8(ascii: "n"): return try expect("null", .none)
            default: return try number()
            }
        }

        mutating func number() throws -> Value {
            let start = position
            var isFloat = false
            if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
            while position < bytes.count {
                let b = bytes[position]
                if (0x30...0x39).contains(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") && position > start {
                    position += 1
                } else if b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                    isFloat = true
                    position += 1
                } else {
                    break
                }
            }
            let text = String(decoding: bytes[start..<position], as: UTF8.self)
            guard !text.isEmpty, text != "-" else { throw error("invalid JSON value") }
            if !isFloat, let i = Int(text) { return .int(i) }
            // Python reads integers of any size; beyond Int64 they are kept as floats here.
            guard let d = Double(text), text.last.map({ $0.isNumber }) == true else {
                throw error("invalid number '\(text)'")
            }
            return .double(d)
        }

        mutating func string() throws -> String {
            position += 1  // the opening quote
            var scalars = String.UnicodeScalarView()
            var run = position
            func flush(_ end: Int) {
                scalars.append(contentsOf: String(decoding: bytes[run..<end], as: UTF8.self).unicodeScalars)
            }
            while position < bytes.count {
                let b = bytes[position]
                if b == UInt8(ascii: "\"") {
                    flush(position)
                    position += 1
                    return String(scalars)
                }
                if b < 0x20 { throw error("control character in a JSON string") }
                if b != UInt8(ascii: "\\") {
                    position += 1
                    continue
                }
                flush(position)
                position += 1
                guard position < bytes.count else { break }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code), position + 1 < bytes.count,
                        bytes[position] == UInt8(ascii: "\\"),
                        bytes[position + 1] == UInt8(ascii: "u")
                    {
                        position += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("invalid surrogate pair") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                default: throw error("invalid escape in a JSON string")
                }
                run = position
            }
            throw error("unterminated JSON string")
        }

        mutating func hex4() throws -> UInt32 {
            guard position + 4 <= bytes.count,
                let code = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16)
            else { throw error("invalid \\u escape") }
            position += 4
            return code
        }
    }
}
