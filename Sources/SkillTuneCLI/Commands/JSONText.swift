import Host
import Kernel

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

    /// A JSON string literal (see Kernel's `JSONString`).
    public static func string(_ value: String) -> String { JSONString.literal(value) }
}
