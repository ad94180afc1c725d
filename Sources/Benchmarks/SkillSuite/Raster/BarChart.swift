/// A vertical bar chart on a white plot with light grid lines at every unit.
public struct BarChartLayout: Sendable {
    /// Plot area in design units.
    public var left: Float = 3, top: Float = 3, right: Float = 30, bottom: Float = 29
    /// Design units per value unit.
    public var unit: Float
    /// Bar width and the gap between bars.
    public var barWidth: Float, gap: Float

    public init(barCount: Int, maxValue: Int) {
        unit = ((bottom - top) / Float(maxValue)).rounded(.down)
        let available = right - left - 2
        gap = 1.5
        barWidth = ((available - gap * Float(barCount - 1)) / Float(barCount)).rounded(.down)
    }
}

extension Canvas {
    /// Bars of integer `values` in `colours`, left to right, with axes and grid lines.
    public mutating func barChart(values: [Int], colours: [RGB], maxValue: Int, layout: BarChartLayout) {
        let base = layout.bottom
        for v in 1...maxValue {  // grid lines at every unit
            let y = base - Float(v) * layout.unit
            fillRect(x: layout.left, y: y, width: layout.right - layout.left, height: 0.75, RGB(200, 200, 210))
        }
        let offset = layout.left + 1.5
        for (i, value) in values.enumerated() {
            let x = offset + Float(i) * (layout.barWidth + layout.gap)
            let h = Float(value) * layout.unit
            fillRect(x: x, y: base - h, width: layout.barWidth, height: h, colours[i])
        }
        fillRect(x: layout.left, y: layout.top, width: 1, height: base - layout.top + 1, RGB(40, 40, 40))  // y axis
        fillRect(x: layout.left, y: base, width: layout.right - layout.left, height: 1, RGB(40, 40, 40))  // x axis
    }
}
