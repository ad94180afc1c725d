/// A line chart over the study's stages (base, then one per target), one line per strategy, labelled at the
/// line ends. Used for the held-out average (the study's Figure 1), held-out forgetting and counting bias.
struct StageLineChart {
    struct Series {
        var name: String
        var style: SeriesStyle
        /// One value per stage; nil where not measured (the line breaks there).
        var values: [Double?]
        /// Drawn fainter and labelled as failed.
        var failed = false
    }

    var label: String
    var stages: [String]
    var series: [Series]
    var yTitle: String
    var xTitle: String? = "stage (cumulative training, left to right)"
    var valueSuffix = ""
    var decimals = 1
    var signedValues = false
    /// A horizontal reference line (e.g. the base model's level) with its label.
    var reference: (value: Double, label: String)?
    var includeZero = false
    /// The y axis spans at least this many units, so that tiny changes do not look dramatic.
    var minimumSpan = 0.0
    var width = 560.0
    var height = 360.0

    func render() -> String {
        let drawn = series.filter { $0.values.contains { $0 != nil } }
        let labelSize = 11.0
        let labelled = drawn.filter { $0.values.last.map { $0 != nil } ?? false }
        let labels = labelled.map(endLabel) + (reference.map { [$0.label] } ?? [])
        let labelWidth = labels.map { SVGCanvas.estimatedWidth($0, size: labelSize) }.max() ?? 0
        let area = PlotArea(left: 66, top: 14, width: width - 66 - min(170, labelWidth + 26), height: height - 14 - 52)
        var canvas = SVGCanvas(width: width, height: height)

        var values = drawn.flatMap { $0.values.compactMap { $0 } }
        if let reference { values.append(reference.value) }
        if includeZero { values.append(0) }
        var low = values.min() ?? 0
        var high = values.max() ?? 1
        if high - low < minimumSpan {
            // Small differences are not blown up to fill the chart: show at least `minimumSpan` units.
            let extra = minimumSpan - (high - low)
            if includeZero && high <= 0 {
                low -= extra
            } else if includeZero && low >= 0 {
                high += extra
            } else {
                low -= extra / 2
                high += extra / 2
            }
        }
        let ticks = NiceTicks(covering: low, high, targetCount: max(3, Int(area.height / 55)))
        let headroom = (ticks.upper - ticks.lower) * 0.03
        let y = LinearScale(domain: (ticks.lower - headroom, ticks.upper + headroom), range: (area.bottom, area.top))
        let inset = stages.count > 1 ? 18.0 : area.width / 2
        let step = stages.count > 1 ? (area.width - 2 * inset) / Double(stages.count - 1) : 0
        let xs = stages.indices.map { area.left + inset + Double($0) * step }

        canvas.yAxis(ticks, scale: y, area: area, title: yTitle, suffix: valueSuffix)
        canvas.categoryAxis(stages, positions: xs, area: area, title: xTitle)
        var ends: [(label: String, color: String, x: Double, y: Double)] = []
        if let reference {
            let ry = y(reference.value)
            canvas.line(x1: area.left, y1: ry, x2: area.right, y2: ry, stroke: "#7b8494", width: 1.2, dash: "5 4")
            ends.append((reference.label, "#5b6475", area.right - 6, ry))
        }
        for line in drawn {
            let opacity = line.failed ? 0.55 : 1
            var run: [(x: Double, y: Double)] = []
            for (stage, value) in line.values.enumerated() {
                if let value {
                    run.append((xs[stage], y(value)))
                } else {
                    canvas.polyline(run, stroke: line.style.color, width: 2.2, dash: line.style.dash, opacity: opacity)
                    run = []
                }
            }
            canvas.polyline(run, stroke: line.style.color, width: 2.2, dash: line.style.dash, opacity: opacity)
            for (stage, value) in line.values.enumerated() {
                guard let value else { continue }
                canvas.marker(
                    line.style.marker, x: xs[stage], y: y(value), size: 7.5, fill: line.style.color,
                    title: "\(line.name) after \(stages[stage]): \(format(value))")
            }
            guard let last = line.values.lastIndex(where: { $0 != nil }), let value = line.values[last] else {
                continue
            }
            if last == stages.count - 1 {
                ends.append((endLabel(line), line.style.color, xs[last], y(value)))
            } else {
                // The run stopped early (a failed strategy): a cross marks where; the legend names it.
                let cx = xs[last] + 10
                let cy = y(value)
                canvas.line(
                    x1: cx - 3.5, y1: cy - 3.5, x2: cx + 3.5, y2: cy + 3.5, stroke: line.style.color, width: 1.8)
                canvas.line(
                    x1: cx - 3.5, y1: cy + 3.5, x2: cx + 3.5, y2: cy - 3.5, stroke: line.style.color, width: 1.8)
            }
        }

        let labelX = area.right + 14
        let spread = LabelLayout.spread(ends.map(\.y), gap: labelSize + 2, lower: area.top + 4, upper: area.bottom)
        for (end, labelY) in zip(ends, spread) {
            let fromX = end.x + 6
            if fromX < labelX - 3 || abs(labelY - end.y) > 1.5 {
                canvas.polyline([(fromX, end.y), (labelX - 3, labelY)], stroke: end.color, width: 0.8, opacity: 0.7)
            }
            canvas.text(end.label, x: labelX, y: labelY + 4, size: labelSize, weight: 600, fill: end.color)
        }
        if drawn.isEmpty {
            canvas.text(
                "no data", x: area.left + area.width / 2, y: area.top + area.height / 2, size: 13,
                anchor: .middle, fill: "#8a93a3")
        }
        return canvas.render(label: label)
    }

    private func endLabel(_ series: Series) -> String {
        SVGCanvas.fitted(series.failed ? "\(series.name) (failed)" : series.name, maxWidth: 144, size: 11)
    }

    private func format(_ value: Double) -> String {
        (signedValues ? ReportFormat.signed(value, decimals: decimals) : ReportFormat.plain(value, decimals: decimals))
            + valueSuffix
    }
}
