/// Compact JSON text for command output, with keys in the order the command contract gives them
/// (`{"shape":...,"logits":...}`), which `JSONSerialization` does not keep.
public enum JSONText {
    /// `[1,2,3]`
    public static func integers<S: Sequence>(_ values: S) -> String where S.Element: BinaryInteger {
        "[" + values.map { String($0) }.joined(separator: ",") + "]"
    }

    /// A float in the shortest form that reads back to the same Float32 (`-0.457805`, `1e-05`); `null` for
    /// NaN and infinities, which JSON cannot hold.
    public static func number(_ value: Float) -> String {
        value.isFinite ? value.description : "null"
    }

    /// `[0.5,-1.25]` from `count` floats at `values`.
    public static func numbers(_ values: UnsafePointer<Float>, count: Int) -> String {
        var out = "["
        out.reserveCapacity(count * 11 + 2)
        for i in 0..<count {
            if i > 0 { out += "," }
            out += number(values[i])
        }
        return out + "]"
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped, everything else as UTF-8.
    public static func string(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
