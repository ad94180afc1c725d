import Foundation

/// Number formatting for the report: fixed decimals, explicit signs, a typographic minus, compact counts.
/// Independent of locale, so reports are byte-for-byte reproducible.
public enum ReportFormat {
    /// U+2212, the same width as "+" in tabular figures.
    public static let minus = "\u{2212}"
    /// Shown for a value that was not measured or is not finite.
    public static let missing = "\u{2014}"

    /// `value` with `decimals` decimals and a minus sign when negative; "—" when not finite.
    public static func plain(_ value: Double, decimals: Int = 1) -> String {
        guard value.isFinite else { return missing }
        let text = String(format: "%.\(decimals)f", abs(value))
        let roundsToZero = text.allSatisfy { $0 == "0" || $0 == "." }
        return value < 0 && !roundsToZero ? minus + text : text
    }

    /// Like `plain`, with "+" in front of positive values ("+24.9", "−0.6", "0.0").
    public static func signed(_ value: Double, decimals: Int = 1) -> String {
        let text = plain(value, decimals: decimals)
        guard value.isFinite, value > 0, text.contains(where: { $0 != "0" && $0 != "." }) else { return text }
        return "+" + text
    }

    /// A parameter count in compact form: 950, 12.3k, 1.25M, 7.62B.
    public static func count(_ value: Int) -> String {
        let v = Double(value)
        switch abs(v) {
        case ..<1_000: return String(value)
        case ..<1_000_000: return trimmed(v / 1_000, decimals: v < 100_000 ? 1 : 0) + "k"
        case ..<1_000_000_000: return trimmed(v / 1_000_000, decimals: 2) + "M"
        default: return trimmed(v / 1_000_000_000, decimals: 2) + "B"
        }
    }

    /// A share as a percentage with enough decimals to be non-zero when the share is: 100%, 12.3%, 0.042%.
    public static func percent(_ part: Int, of whole: Int) -> String {
        guard whole > 0 else { return missing }
        let share = 100 * Double(part) / Double(whole)
        if share == 0 || share >= 1 { return trimmed(share, decimals: 1) + "%" }
        let decimals = min(6, max(2, Int((-log10(share)).rounded(.up)) + 1))
        return trimmed(share, decimals: decimals) + "%"
    }

    /// A duration: "42.0 s", "3 min 05 s", "1 h 02 min".
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return missing }
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        let whole = Int(seconds.rounded())
        if whole < 3600 { return String(format: "%d min %02d s", whole / 60, whole % 60) }
        return String(format: "%d h %02d min", whole / 3600, (whole % 3600) / 60)
    }

    /// A small setting such as a learning rate: "5e-6", "0.03", "1".
    public static func setting(_ value: Double) -> String {
        guard value.isFinite else { return missing }
        if value == 0 { return "0" }
        let exponent = Int(floor(log10(abs(value))))
        if exponent >= -3 && exponent < 6 { return trimmed(value, decimals: 6) }
        let mantissa = value / pow(10, Double(exponent))
        return trimmed(mantissa, decimals: 2) + "e" + String(exponent)
    }

    /// Fixed decimals with trailing zeros (and a trailing point) removed; "-0" becomes "0".
    public static func trimmed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return "" }
        var text = String(format: "%.\(decimals)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "-0" ? "0" : text
    }
}
