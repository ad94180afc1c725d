import Foundation
import Kernel

/// Counting bias against held-out change, one point per strategy and tuned stage, with Pearson's r: does the
/// output distribution shift go with forgetting, as the study found?
struct BiasForgettingScatter {
    struct Point {
        var name: String
        var stage: String
        var style: SeriesStyle
        /// Number-token mass on held-out prompts, percent.
        var bias: Double
        /// Held-out change from base, points.
        var change: Double
    }

    var points: [Point]
    /// The base model's number-token mass (percent), drawn as a reference ring at change 0.
    var baseBias: Double?
    var width = 560.0
    var height = 360.0

    /// Pearson correlation of bias and change over the points; nil with fewer than 3 points or no spread.
    var correlation: Double? {
        guard points.count >= 3 else { return nil }
        return RankCorrelation.pearson(points.map(\.bias), points.map(\.change))
    }

    func render() -> String {
        let area = PlotArea(left: 66, top: 14, width: width - 66 - 20, height: height - 14 - 52)
        var canvas = SVGCanvas(width: width, height: height)
        let xs = points.map(\.bias) + (baseBias.map { [$0] } ?? []) + [0]
        let ys = points.map(\.change) + [0]
        let xTicks = NiceTicks(covering: xs.min()!, xs.max()!, targetCount: 5)
        let yTicks = NiceTicks(covering: ys.min()!, ys.max()!, targetCount: max(3, Int(area.height / 55)))
        let xPad = (xTicks.upper - xTicks.lower) * 0.03
        let yPad = (yTicks.upper - yTicks.lower) * 0.03
        let x = LinearScale(domain: (xTicks.lower - xPad, xTicks.upper + xPad), range: (area.left, area.right))
        let y = LinearScale(domain: (yTicks.lower - yPad, yTicks.upper + yPad), range: (area.bottom, area.top))
        canvas.yAxis(yTicks, scale: y, area: area, title: "held-out change (points)")
        canvas.xAxis(xTicks, scale: x, area: area, title: "number-token mass on held-out prompts (%)", suffix: "%")
        if let baseBias {
            canvas.circle(
                cx: x(baseBias), cy: y(0), radius: 6, fill: "none", stroke: "#1d2330", strokeWidth: 1.5,
                title: "base model: \(ReportFormat.plain(baseBias))%")
            canvas.text("base", x: x(baseBias) + 9, y: y(0) - 7, size: 10.5, fill: "#5b6475", halo: true)
        }
        for p in points {
            canvas.marker(
                p.style.marker, x: x(p.bias), y: y(p.change), size: 8, fill: p.style.color,
                title: "\(p.name) after \(p.stage): mass \(ReportFormat.plain(p.bias))%, held-out "
                    + "\(ReportFormat.signed(p.change))")
        }
        if points.isEmpty {
            canvas.text(
                "no data", x: area.left + area.width / 2, y: area.top + area.height / 2, size: 13,
                anchor: .middle, fill: "#8a93a3")
        }
        return canvas.render(label: "Counting bias against held-out change, per strategy and stage")
    }
}
