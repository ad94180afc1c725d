import Foundation

/// A small builder for inline SVG charts: shapes, text, markers and axes with round-numbered ticks.
///
/// Coordinates are in pixels of the chart's own viewBox (origin top left). Every string that reaches the
/// output is escaped, and numbers are written with at most two decimals, so the same calls always give the
/// same bytes. Text takes its font from the surrounding page (`font-family: inherit`).
public struct SVGCanvas {
    public let width: Double
    public let height: Double
    private var elements: [String] = []

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    public enum TextAnchor: String {
        case start, middle, end
    }

    /// Marker shapes; with colour they tell strategies apart even when colours repeat.
    public enum MarkerShape: CaseIterable {
        case circle, square, triangle, diamond
    }

    /// A straight line.
    public mutating func line(
        x1: Double, y1: Double, x2: Double, y2: Double, stroke: String,
        width: Double = 1, dash: String? = nil, opacity: Double = 1
    ) {
        var attributes =
            "x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" "
            + "stroke=\"\(e(stroke))\" stroke-width=\"\(n(width))\""
        if let dash { attributes += " stroke-dasharray=\"\(e(dash))\"" }
        if opacity < 1 { attributes += " stroke-opacity=\"\(n(opacity))\"" }
        elements.append("<line \(attributes)/>")
    }

    /// A rectangle; `title` becomes a hover tooltip.
    public mutating func rect(
        x: Double, y: Double, width: Double, height: Double, fill: String,
        stroke: String? = nil, strokeWidth: Double = 1, cornerRadius: Double = 0,
        opacity: Double = 1, title: String? = nil
    ) {
        var attributes =
            "x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(max(0, width)))\" height=\"\(n(max(0, height)))\" "
            + "fill=\"\(e(fill))\""
        if let stroke { attributes += " stroke=\"\(e(stroke))\" stroke-width=\"\(n(strokeWidth))\"" }
        if cornerRadius > 0 { attributes += " rx=\"\(n(cornerRadius))\"" }
        if opacity < 1 { attributes += " fill-opacity=\"\(n(opacity))\"" }
        elements.append(element("rect", attributes, title: title))
    }

    /// A circle.
    public mutating func circle(
        cx: Double, cy: Double, radius: Double, fill: String, stroke: String? = nil,
        strokeWidth: Double = 1, title: String? = nil
    ) {
        var attributes = "cx=\"\(n(cx))\" cy=\"\(n(cy))\" r=\"\(n(radius))\" fill=\"\(e(fill))\""
        if let stroke { attributes += " stroke=\"\(e(stroke))\" stroke-width=\"\(n(strokeWidth))\"" }
        elements.append(element("circle", attributes, title: title))
    }

    /// An open line through `points` (nothing is drawn for fewer than two points).
    public mutating func polyline(
        _ points: [(x: Double, y: Double)], stroke: String, width: Double = 2,
        dash: String? = nil, opacity: Double = 1
    ) {
        guard points.count >= 2 else { return }
        var attributes =
            "points=\"\(pointList(points))\" fill=\"none\" stroke=\"\(e(stroke))\" "
            + "stroke-width=\"\(n(width))\" stroke-linejoin=\"round\" stroke-linecap=\"round\""
        if let dash { attributes += " stroke-dasharray=\"\(e(dash))\"" }
        if opacity < 1 { attributes += " stroke-opacity=\"\(n(opacity))\"" }
        elements.append("<polyline \(attributes)/>")
    }

    /// A closed filled shape.
    public mutating func polygon(_ points: [(x: Double, y: Double)], fill: String, opacity: Double = 1) {
        guard points.count >= 3 else { return }
        var attributes = "points=\"\(pointList(points))\" fill=\"\(e(fill))\""
        if opacity < 1 { attributes += " fill-opacity=\"\(n(opacity))\"" }
        elements.append("<polygon \(attributes)/>")
    }

    /// A text label. `rotation` is in degrees around the anchor point; `baseline` "middle" centres vertically.
    public mutating func text(
        _ string: String, x: Double, y: Double, size: Double = 12,
        anchor: TextAnchor = .start, weight: Int = 400, fill: String = "#1d2330",
        rotation: Double? = nil, baseline: String? = nil, halo: Bool = false,
        title: String? = nil
    ) {
        var attributes = "x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" fill=\"\(e(fill))\""
        if anchor != .start { attributes += " text-anchor=\"\(anchor.rawValue)\"" }
        if weight != 400 { attributes += " font-weight=\"\(weight)\"" }
        if let rotation { attributes += " transform=\"rotate(\(n(rotation)) \(n(x)) \(n(y)))\"" }
        if let baseline { attributes += " dominant-baseline=\"\(e(baseline))\"" }
        if halo {
            attributes += " stroke=\"#ffffff\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\""
        }
        let body = (title.map { "<title>\(e($0))</title>" } ?? "") + e(string)
        elements.append("<text \(attributes)>\(body)</text>")
    }

    /// A point marker of the given shape, centred on (x, y), about `size` pixels across.
    public mutating func marker(
        _ shape: MarkerShape, x: Double, y: Double, size: Double, fill: String,
        stroke: String = "#ffffff", title: String? = nil
    ) {
        let r = size / 2
        switch shape {
        case .circle:
            circle(cx: x, cy: y, radius: r, fill: fill, stroke: stroke, strokeWidth: 1.2, title: title)
        case .square:
            let s = r * 0.9
            rect(
                x: x - s, y: y - s, width: 2 * s, height: 2 * s, fill: fill, stroke: stroke, strokeWidth: 1.2,
                title: title)
        case .triangle:
            let s = r * 1.15
            path([(x, y - s), (x + s, y + s * 0.8), (x - s, y + s * 0.8)], fill: fill, stroke: stroke, title: title)
        case .diamond:
            let s = r * 1.2
            path([(x, y - s), (x + s, y), (x, y + s), (x - s, y)], fill: fill, stroke: stroke, title: title)
        }
    }

    /// Adds already-built SVG markup (for example another canvas's elements); the caller escapes it.
    public mutating func raw(_ markup: String) {
        elements.append(markup)
    }

    /// The finished `<svg>` element; `label` is its accessible name.
    public func render(label: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(n(width)) \(n(height))\" "
            + "width=\"\(n(width))\" height=\"\(n(height))\" role=\"img\" aria-label=\"\(e(label))\">\n"
            + elements.joined(separator: "\n") + "\n</svg>"
    }

    private mutating func path(_ points: [(x: Double, y: Double)], fill: String, stroke: String, title: String?) {
        let attributes =
            "points=\"\(pointList(points))\" fill=\"\(e(fill))\" stroke=\"\(e(stroke))\" "
            + "stroke-width=\"1.2\" stroke-linejoin=\"round\""
        elements.append(element("polygon", attributes, title: title))
    }

    private func element(_ name: String, _ attributes: String, title: String?) -> String {
        guard let title else { return "<\(name) \(attributes)/>" }
        return "<\(name) \(attributes)><title>\(e(title))</title></\(name)>"
    }

    private func pointList(_ points: [(x: Double, y: Double)]) -> String {
        points.map { "\(n($0.x)),\(n($0.y))" }.joined(separator: " ")
    }

    private func n(_ value: Double) -> String { SVGCanvas.number(value) }
    private func e(_ text: String) -> String { Markup.escape(text) }

    /// A coordinate with at most two decimals, trailing zeros dropped, never "-0".
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let hundredths = (value * 100).rounded()
        if hundredths == 0 { return "0" }
        if hundredths.truncatingRemainder(dividingBy: 100) == 0 { return String(Int(hundredths / 100)) }
        var text = String(format: "%.2f", hundredths / 100)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}

// MARK: - Scales and axes

/// Maps a data interval linearly onto a pixel interval (which may run backwards, as a y axis does).
public struct LinearScale {
    public var domain: (lower: Double, upper: Double)
    public var range: (from: Double, to: Double)

    public init(domain: (lower: Double, upper: Double), range: (from: Double, to: Double)) {
        self.domain = domain
        self.range = range
    }

    public func callAsFunction(_ value: Double) -> Double {
        let span = domain.upper - domain.lower
        let t = span == 0 ? 0.5 : (value - domain.lower) / span
        return range.from + t * (range.to - range.from)
    }
}

/// Round-numbered axis ticks (steps of 1, 2, 2.5 or 5 times a power of ten) covering an interval.
public struct NiceTicks {
    /// The covering interval, widened to whole steps.
    public let lower: Double
    public let upper: Double
    public let step: Double
    public let values: [Double]
    /// Decimals needed to print every tick exactly.
    public let decimals: Int

    /// Ticks covering `minimum...maximum` with about `targetCount` intervals. A degenerate interval is widened.
    public init(covering minimum: Double, _ maximum: Double, targetCount: Int = 5) {
        var low = min(minimum, maximum)
        var high = max(minimum, maximum)
        if !low.isFinite || !high.isFinite {
            low = 0
            high = 1
        }
        if high - low < 1e-12 {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            low -= pad
            high += pad
        }
        let rawStep = (high - low) / Double(max(1, targetCount))
        let magnitude = pow(10, floor(log10(rawStep)))
        let fraction = rawStep / magnitude
        let niceFraction: Double =
            fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10
        let step = niceFraction * magnitude
        let first = (low / step + 1e-9).rounded(.down)
        let last = (high / step - 1e-9).rounded(.up)
        self.step = step
        self.lower = first * step
        self.upper = last * step
        var decimals = 0
        while decimals < 10 {
            let scaled = step * pow(10, Double(decimals))
            if abs(scaled - scaled.rounded()) < 1e-6 { break }
            decimals += 1
        }
        self.decimals = decimals
        let unit = pow(10, Double(decimals))
        self.values = stride(from: first, through: last + 1e-9, by: 1).map { ($0 * step * unit).rounded() / unit }
    }

    /// A tick label with a typographic minus sign.
    public func label(_ value: Double, suffix: String = "") -> String {
        ReportFormat.plain(value, decimals: decimals) + suffix
    }
}

/// The rectangle charts draw their data in, inside the canvas margins.
public struct PlotArea {
    public var left: Double
    public var top: Double
    public var width: Double
    public var height: Double
    public init(left: Double, top: Double, width: Double, height: Double) {
        self.left = left
        self.top = top
        self.width = width
        self.height = height
    }
    public var right: Double { left + width }
    public var bottom: Double { top + height }
}

extension SVGCanvas {
    static let axisInk = "#5b6475"
    static let gridInk = "#e6e8ec"

    /// A left value axis with horizontal grid lines, tick labels and a rotated title.
    public mutating func yAxis(
        _ ticks: NiceTicks, scale: LinearScale, area: PlotArea, title: String,
        suffix: String = ""
    ) {
        for value in ticks.values {
            let y = scale(value)
            line(x1: area.left, y1: y, x2: area.right, y2: y, stroke: value == 0 ? "#b9bec7" : SVGCanvas.gridInk)
            text(
                ticks.label(value, suffix: suffix), x: area.left - 7, y: y + 4, size: 11, anchor: .end,
                fill: SVGCanvas.axisInk)
        }
        line(x1: area.left, y1: area.top, x2: area.left, y2: area.bottom, stroke: "#9aa1ad")
        text(
            title, x: area.left - 46, y: area.top + area.height / 2, size: 12, anchor: .middle, weight: 600,
            fill: "#3b4252", rotation: -90)
    }

    /// A bottom value axis with vertical grid lines, tick labels and a title.
    public mutating func xAxis(
        _ ticks: NiceTicks, scale: LinearScale, area: PlotArea, title: String,
        suffix: String = ""
    ) {
        for value in ticks.values {
            let x = scale(value)
            line(x1: x, y1: area.top, x2: x, y2: area.bottom, stroke: value == 0 ? "#b9bec7" : SVGCanvas.gridInk)
            text(
                ticks.label(value, suffix: suffix), x: x, y: area.bottom + 16, size: 11, anchor: .middle,
                fill: SVGCanvas.axisInk)
        }
        line(x1: area.left, y1: area.bottom, x2: area.right, y2: area.bottom, stroke: "#9aa1ad")
        text(
            title, x: area.left + area.width / 2, y: area.bottom + 38, size: 12, anchor: .middle, weight: 600,
            fill: "#3b4252")
    }

    /// A bottom axis of named categories at the given x positions, with faint vertical guides.
    public mutating func categoryAxis(_ names: [String], positions: [Double], area: PlotArea, title: String?) {
        for (name, x) in zip(names, positions) {
            line(x1: x, y1: area.top, x2: x, y2: area.bottom, stroke: SVGCanvas.gridInk)
            line(x1: x, y1: area.bottom, x2: x, y2: area.bottom + 4, stroke: "#9aa1ad")
            text(name, x: x, y: area.bottom + 17, size: 11, anchor: .middle, fill: SVGCanvas.axisInk)
        }
        line(x1: area.left, y1: area.bottom, x2: area.right, y2: area.bottom, stroke: "#9aa1ad")
        if let title {
            text(
                title, x: area.left + area.width / 2, y: area.bottom + 38, size: 12, anchor: .middle, weight: 600,
                fill: "#3b4252")
        }
    }

    /// A rough width of `text` at `size` pixels, for layout (a generous average glyph width).
    public static func estimatedWidth(_ text: String, size: Double) -> Double {
        Double(text.count) * size * 0.6
    }

    /// `text` shortened with an ellipsis so that its estimated width fits `maxWidth`.
    public static func fitted(_ text: String, maxWidth: Double, size: Double) -> String {
        guard estimatedWidth(text, size: size) > maxWidth else { return text }
        let keep = max(1, Int(maxWidth / (size * 0.6)) - 1)
        return String(text.prefix(keep)) + "\u{2026}"
    }
}
