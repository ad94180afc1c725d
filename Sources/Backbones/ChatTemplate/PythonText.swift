import Foundation

/// How Python writes values: `str()` (what `{{ x }}` prints) and `repr()` (how values inside lists and dicts print).
enum PythonText {
    /// `str(value)`: strings as they are, None/True/False capitalised, floats as Python's shortest repr,
    /// containers as their repr. Undefined prints as "".
    static func str(_ value: Value) -> String {
        switch value {
        case .undefined: return ""
        case .string(let s): return s
        default: return repr(value)
        }
    }

    /// `repr(value)`: `'text'`, `[1, 'a']`, `{'k': None}`, `(1,)`.
    static func repr(_ value: Value) -> String {
        switch value {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return float(d)
        case .string(let s): return quoted(s)
        case .list(let items): return "[" + items.map(repr).joined(separator: ", ") + "]"
        case .tuple(let items):
            return items.count == 1 ? "(" + repr(items[0]) + ",)" : "(" + items.map(repr).joined(separator: ", ") + ")"
        case .dict(let d):
            return "{" + d.pairs.map { repr($0.key) + ": " + repr($0.value) }.joined(separator: ", ") + "}"
        case .namespace(let ns): return "<Namespace " + repr(.dict(ns.attributes)) + ">"
        case .callable(let c): return "<function " + c.name + ">"
        }
    }

    /// Python's `repr(float)`: the shortest digits that round-trip, positional for exponents -4...15,
    /// scientific (`1e+20`, `1.5e-07`) otherwise; `inf`, `nan`.
    static func float(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description has the same shortest round-trip digits; re-lay them out as Python does.
        var text = "\(abs(d))"
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...])!
            text = String(text[..<e])
        }
        var integerPart = text
        var fraction = ""
        if let dot = text.firstIndex(of: ".") {
            integerPart = String(text[..<dot])
            fraction = String(text[text.index(after: dot)...])
        }
        var digits = integerPart + fraction
        var point = integerPart.count + exponent  // digits[0..<point] are before the decimal point
        let leadingZeros = digits.prefix { $0 == "0" }.count
        digits.removeFirst(leadingZeros)
        point -= leadingZeros
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        let decimalExponent = point - 1
        let sign = d < 0 ? "-" : ""
        if decimalExponent >= -4 && decimalExponent < 16 {
            if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
            if point >= digits.count {
                return sign + digits + String(repeating: "0", count: point - digits.count) + ".0"
            }
            let cut = digits.index(digits.startIndex, offsetBy: point)
            return sign + digits[..<cut] + "." + digits[cut...]
        }
        let mantissa = digits.count == 1 ? digits : String(digits.prefix(1)) + "." + digits.dropFirst()
        let exponentText = String(abs(decimalExponent))
        return sign + mantissa + "e" + (decimalExponent < 0 ? "-" : "+")
            + (exponentText.count < 2 ? "0" + exponentText : exponentText)
    }

    /// Python's `round(x, digits)`: the exactly-rounded decimal (ties to even on the binary value), as a float.
    static func round(_ x: Double, digits: Int) -> Double {
        guard x.isFinite else { return x }
        if digits >= 0 {
            // printf rounds the exact binary value correctly, as Python's round does through its dtoa.
            let text = String(format: "%.\(min(digits, 340))f", x)
            return Double(text) ?? x
        }
        let scale = pow(10.0, Double(-digits))
        return (x / scale).rounded(.toNearestOrEven) * scale
    }

    /// A string in Python's repr quoting: single quotes unless the text has a single quote and no double quote.
    static func quoted(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(scalar) == quote {
                    out += "\\" + String(quote)
                } else if scalar.value < 0x20 || (0x7F...0xA0).contains(scalar.value) || scalar.value == 0xAD {
                    out += String(format: "\\x%02x", scalar.value)
                } else if !isPrintable(scalar) {
                    out +=
                        scalar.value <= 0xFFFF
                        ? String(format: "\\u%04x", scalar.value) : String(format: "\\U%08x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append(quote)
        return out
    }
}

/// Python's `str.isprintable` for one character: not a control, format, surrogate, private-use, unassigned or
/// separator character other than the space.
private func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator: return false
    case .spaceSeparator: return scalar == " "
    default: return true
    }
}
