/// The study's central picture: each strategy as a point, held-out forgetting (x) against learning (y).
/// The top-right corner (learns a lot, forgets nothing) is the ideal; the Pareto front is drawn dashed.
struct TradeoffScatter {
    struct Point {
        var name: String
        var style: SeriesStyle
        var forgetting: Double
        var learning: Double
        var paretoOptimal: Bool
        /// 95% interval half-widths over seeds (nil with one seed), drawn as error bars.
        var forgettingHalfWidth: Double? = nil
        var learningHalfWidth: Double? = nil
    }

    var points: [Point]
    var width = 560.0
    var height = 420.0

    func render() -> String {
        let area = PlotArea(left: 66, top: 16, width: width - 66 - 18, height: height - 16 - 54)
        var canvas = SVGCanvas(width: width, height: height)
        let xTicks = ticks(
            points.flatMap { p in
                [p.forgetting - (p.forgettingHalfWidth ?? 0), p.forgetting + (p.forgettingHalfWidth ?? 0)]
            },
            roomRightOfZero: 0.12, minimumSpan: 5)
        let yTicks = ticks(
            points.flatMap { p in [p.learning - (p.learningHalfWidth ?? 0), p.learning + (p.learningHalfWidth ?? 0)] },
            roomRightOfZero: 0, minimumSpan: 10)
        let x = LinearScale(domain: (xTicks.lower, xTicks.upper), range: (area.left, area.right))
        let y = LinearScale(domain: (yTicks.lower, yTicks.upper), range: (area.bottom, area.top))

        // The ideal region: no forgetting (x >= 0) and learning above the best strategy's half.
        let cornerX = x(min(0, xTicks.upper))
        let cornerY = y(max(0, yTicks.upper * 0.5))
        canvas.rect(
            x: cornerX, y: area.top, width: area.right - cornerX, height: cornerY - area.top,
            fill: "#2ca02c", opacity: 0.07)
        canvas.yAxis(yTicks, scale: y, area: area, title: "learning: mean target gain (points)")
        canvas.xAxis(
            xTicks, scale: x, area: area, title: "held-out change after the last stage (points; left = forgot)")
        canvas.text(
            "ideal \u{2197}", x: area.right - 6, y: area.top + 15, size: 11.5, anchor: .end, weight: 600,
            fill: "#2d7a2d")
        canvas.text(
            "learns most, forgets least", x: area.right - 6, y: area.top + 29, size: 10, anchor: .end,
            fill: "#4f7f4f")

        let front = points.filter(\.paretoOptimal).sorted { $0.forgetting < $1.forgetting }
        if front.count > 1 {
            canvas.polyline(
                front.map { (x($0.forgetting), y($0.learning)) }, stroke: "#8a93a3", width: 1.2, dash: "4 4")
        }
        let positions = points.map { (x: x($0.forgetting), y: y($0.learning)) }
        for (point, position) in zip(points, positions) {
            // Error bars: the 95% intervals over seeds, with short caps.
            if let h = point.forgettingHalfWidth, h > 0 {
                let (x0, x1) = (x(point.forgetting - h), x(point.forgetting + h))
                canvas.line(x1: x0, y1: position.y, x2: x1, y2: position.y, stroke: point.style.color, width: 1.2)
                for xe in [x0, x1] {
                    canvas.line(
                        x1: xe, y1: position.y - 4, x2: xe, y2: position.y + 4, stroke: point.style.color, width: 1.2)
                }
            }
            if let h = point.learningHalfWidth, h > 0 {
                let (y0, y1) = (y(point.learning - h), y(point.learning + h))
                canvas.line(x1: position.x, y1: y0, x2: position.x, y2: y1, stroke: point.style.color, width: 1.2)
                for ye in [y0, y1] {
                    canvas.line(
                        x1: position.x - 4, y1: ye, x2: position.x + 4, y2: ye, stroke: point.style.color, width: 1.2)
                }
            }
        }
        for (point, position) in zip(points, positions) {
            canvas.marker(
                point.style.marker, x: position.x, y: position.y, size: 11, fill: point.style.color,
                title: "\(point.name): learning \(ReportFormat.signed(point.learning)), held-out "
                    + "\(ReportFormat.signed(point.forgetting))")
        }
        let bounds = LabelLayout.Box(x0: area.left + 2, y0: area.top + 34, x1: area.right - 2, y1: area.bottom - 2)
        let frontLine = front.map { (x: x($0.forgetting), y: y($0.learning)) }
        let labels = points.map { SVGCanvas.fitted($0.name, maxWidth: 150, size: 11.5) }
        let placements = LabelLayout.place(
            points: positions, labels: labels, size: 11.5, pointRadius: 7,
            bounds: bounds, obstacles: LabelLayout.boxes(along: frontLine))
        for ((point, position), (label, placement)) in zip(zip(points, positions), zip(labels, placements)) {
            if placement.needsLeader {
                canvas.line(
                    x1: position.x, y1: position.y, x2: placement.x, y2: placement.y - 4,
                    stroke: point.style.color, width: 0.8, opacity: 0.6)
            }
            canvas.text(
                label, x: placement.x, y: placement.y, size: 11.5, anchor: placement.anchor, weight: 600,
                fill: point.style.color, halo: true)
        }
        if points.isEmpty {
            canvas.text(
                "no complete strategy", x: area.left + area.width / 2, y: area.top + area.height / 2,
                size: 13, anchor: .middle, fill: "#8a93a3")
        }
        return canvas.render(label: "Learning versus held-out forgetting per strategy")
    }

    /// Round ticks covering the values and zero, with a little room beyond the data so points never sit on
    /// the frame, and (for x) some room right of zero so the ideal region shows. Spans at least
    /// `minimumSpan` points, so that small differences are not blown up.
    private func ticks(_ values: [Double], roomRightOfZero: Double, minimumSpan: Double) -> NiceTicks {
        let low = min(0, values.min() ?? 0)
        let high = max(0, values.max() ?? 1)
        let span = max(high - low, minimumSpan)
        let paddedLow = min(0, (values.min() ?? 0) - 0.05 * span)
        let paddedHigh = max(roomRightOfZero * span, (values.max() ?? 1) + 0.05 * span)
        return NiceTicks(covering: paddedLow, paddedHigh, targetCount: 6)
    }
}
