import Foundation

/// How one strategy is drawn in every chart: the same colour, marker and dash everywhere.
public struct SeriesStyle: Equatable {
    public var color: String
    public var marker: SVGCanvas.MarkerShape
    /// nil for a solid line.
    public var dash: String?
}

/// Colours of the report: a categorical palette for strategies and a diverging scale for changes.
public enum ReportPalette {
    /// Twelve colours that stay apart from each other and readable as text on white.
    public static let categorical = [
        "#1f77b4", "#d62728", "#2ca02c", "#e07b00", "#9467bd", "#0e9aa7",
        "#8c564b", "#d1479b", "#7a8b00", "#1a3e7a", "#b8860b", "#5f6b7a",
    ]

    /// The style of the strategy at `index` (its position in the results). Past twelve strategies the
    /// colours repeat with another marker shape and a dashed line, so every strategy stays distinct.
    public static func style(forStrategyAt index: Int) -> SeriesStyle {
        let cycle = index / categorical.count
        let shapes = SVGCanvas.MarkerShape.allCases
        let dashes: [String?] = [nil, "7 4", "2 3", "10 3 2 3"]
        return SeriesStyle(
            color: categorical[index % categorical.count], marker: shapes[cycle % shapes.count],
            dash: dashes[cycle % dashes.count])
    }

    /// ColorBrewer RdBu stops from -1 (red, worse) through white (0) to +1 (blue, better).
    private static let diverging: [(Double, Double, Double)] = [
        (103, 0, 31), (178, 24, 43), (214, 96, 77), (244, 165, 130), (253, 219, 199), (247, 247, 247),
        (209, 229, 240), (146, 197, 222), (67, 147, 195), (33, 102, 172), (5, 48, 97),
    ]

    /// The diverging colour of `value` on a symmetric scale reaching full colour at +-`limit`.
    /// `strength` below 1 mixes towards white (for backgrounds behind text).
    public static func divergingColor(_ value: Double, limit: Double, strength: Double = 1) -> String {
        guard value.isFinite, limit > 0 else { return "#f2f3f5" }
        let t = max(-1, min(1, value / limit)) * strength
        let position = (t + 1) / 2 * Double(diverging.count - 1)
        let lowerIndex = min(diverging.count - 2, Int(position.rounded(.down)))
        let f = position - Double(lowerIndex)
        let a = diverging[lowerIndex]
        let b = diverging[lowerIndex + 1]
        return hex(a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f, a.2 + (b.2 - a.2) * f)
    }

    /// Whether text on the diverging colour of `value` should be white (the background is dark).
    public static func needsLightText(_ value: Double, limit: Double, strength: Double = 1) -> Bool {
        guard value.isFinite, limit > 0 else { return false }
        return abs(value / limit) * strength > 0.62
    }

    /// A sequential grey-blue for absolute values in 0...1 (base accuracies).
    public static func sequentialColor(_ fraction: Double) -> String {
        let t = max(0, min(1, fraction.isFinite ? fraction : 0))
        return hex(244 - 120 * t, 246 - 100 * t, 250 - 70 * t)
    }

    private static func hex(_ r: Double, _ g: Double, _ b: Double) -> String {
        let clamp = { (v: Double) in max(0, min(255, Int(v.rounded()))) }
        return String(format: "#%02x%02x%02x", clamp(r), clamp(g), clamp(b))
    }
}
