/// A strategy x benchmark grid of accuracy changes from the base model, on a diverging scale (red = lost,
/// blue = gained) with the value printed in every cell. An optional first row shows the base accuracies
/// themselves, and two summary columns give the target and held-out means.
struct ChangeHeatmap {
    static let scaleCaption = "change vs base (points): red = lost, blue = gained"

    struct Row {
        var name: String
        var style: SeriesStyle
        /// One change per benchmark.
        var changes: [Double]
    }

    var label: String
    var benchmarks: [BenchmarkInfo]
    var rows: [Row]
    var baseAccuracy: [Double]?
    /// Full colour at +-limit; nil picks a round number above the largest change.
    var limit: Double?
    var maxWidth = 1090.0
    /// Whether to draw the colour scale under the grid.
    var showScale = true

    /// The scale limit this chart uses.
    var effectiveLimit: Double {
        if let limit { return limit }
        let largest = rows.flatMap(\.changes).filter(\.isFinite).map(abs).max() ?? 0
        return NiceTicks(covering: 0, max(5, largest), targetCount: 4).upper
    }

    func render() -> String {
        let limit = effectiveLimit
        let targets = benchmarks.indices.filter { benchmarks[$0].role == "target" }
        let heldOut = benchmarks.indices.filter { benchmarks[$0].role != "target" }
        // Columns: targets, gap, held-out, gap, the two means.
        let columns: [Int?] = targets.map { $0 } + [nil] + heldOut.map { $0 } + [nil, -1, -2]
        let names = rows.map { ChangeHeatmap.rowLabel($0.name) } + (baseAccuracy == nil ? [] : ["base accuracy"])
        let left = min(190, (names.map { SVGCanvas.estimatedWidth($0, size: 12) }.max() ?? 60) + 30)
        let gap = 10.0
        let dataColumns = Double(columns.filter { $0 != nil }.count)
        let cell = max(40, min(72, (maxWidth - left - 20 - 2 * gap) / max(1, dataColumns)))
        let cellHeight = 25.0
        let headerNames = (benchmarks.map(\.name) + ["targets mean", "held-out mean"]).map {
            SVGCanvas.fitted($0, maxWidth: 150, size: 11)
        }
        let longest = headerNames.map { SVGCanvas.estimatedWidth($0, size: 11) }.max() ?? 40
        let top = 26 + min(130, longest * 0.64 + 10)
        let xs = columnPositions(columns, start: left, cell: cell, gap: gap)
        let gridRight = (xs.last ?? left) + cell
        let baseRows = baseAccuracy == nil ? 0.0 : 1.0
        let gridBottom = top + (Double(rows.count) + baseRows) * cellHeight + (baseRows > 0 ? 8 : 0)
        let headerRight =
            columns.indices.compactMap { slot -> Double? in
                guard let column = columns[slot] else { return nil }
                return xs[slot] + cell / 2 + 3 + 0.77
                    * SVGCanvas.estimatedWidth(
                        headerNames[column >= 0 ? column : benchmarks.count - column - 1], size: 11)
            }.max() ?? gridRight
        let barWidth = min(320, gridRight - left)
        let barRight = left + barWidth + 12 + SVGCanvas.estimatedWidth(ChangeHeatmap.scaleCaption, size: 11)
        var canvas = SVGCanvas(
            width: max(gridRight, headerRight, showScale ? barRight : 0) + 8,
            height: gridBottom + (showScale ? 62 : 8))

        // Group headers and rotated column names.
        groupHeader(&canvas, "targets (training order)", columns: targets, in: columns, xs: xs, cell: cell)
        groupHeader(&canvas, "held-out", columns: heldOut, in: columns, xs: xs, cell: cell)
        groupHeader(&canvas, "means", columns: [-1, -2], in: columns, xs: xs, cell: cell)
        for (slot, column) in columns.enumerated() {
            guard let column else { continue }
            let name = headerNames[column >= 0 ? column : benchmarks.count - column - 1]
            canvas.text(
                name, x: xs[slot] + cell / 2 + 3, y: top - 6, size: 11, fill: "#3b4252", rotation: -40,
                title: column >= 0 ? benchmarks[column].name : nil)
        }

        var rowY = top
        if let baseAccuracy {
            canvas.text(
                "base accuracy", x: left - 10, y: rowY + cellHeight / 2 + 4, size: 12, anchor: .end,
                weight: 600, fill: "#5b6475")
            let means = [mean(targets.map { baseAccuracy[$0] }), mean(heldOut.map { baseAccuracy[$0] })]
            for (slot, column) in columns.enumerated() {
                guard let column else { continue }
                let value = column >= 0 ? baseAccuracy[column] : means[-column - 1]
                canvas.rect(
                    x: xs[slot] + 1, y: rowY + 1, width: cell - 2, height: cellHeight - 2,
                    fill: ReportPalette.sequentialColor(value / 100), cornerRadius: 2,
                    title: "base: \(ReportFormat.plain(value))%")
                canvas.text(
                    ReportFormat.plain(value), x: xs[slot] + cell / 2, y: rowY + cellHeight / 2 + 4,
                    size: 11, anchor: .middle, fill: value > 70 ? "#ffffff" : "#1d2330")
            }
            rowY += cellHeight + 8
        }
        for row in rows {
            canvas.marker(row.style.marker, x: left - 12, y: rowY + cellHeight / 2, size: 8, fill: row.style.color)
            canvas.text(
                ChangeHeatmap.rowLabel(row.name), x: left - 22, y: rowY + cellHeight / 2 + 4, size: 12,
                anchor: .end, weight: 600, fill: "#1d2330", title: row.name)
            let means = [mean(targets.map { row.changes[$0] }), mean(heldOut.map { row.changes[$0] })]
            for (slot, column) in columns.enumerated() {
                guard let column else { continue }
                let value = column >= 0 ? row.changes[column] : means[-column - 1]
                let title =
                    "\(row.name), \(column >= 0 ? benchmarks[column].name : headerNames[benchmarks.count - column - 1]): "
                    + "\(ReportFormat.signed(value)) points vs base"
                canvas.rect(
                    x: xs[slot] + 1, y: rowY + 1, width: cell - 2, height: cellHeight - 2,
                    fill: ReportPalette.divergingColor(value, limit: limit), cornerRadius: 2, title: title)
                canvas.text(
                    ReportFormat.signed(value), x: xs[slot] + cell / 2, y: rowY + cellHeight / 2 + 4,
                    size: 11, anchor: .middle, weight: column < 0 ? 700 : 400,
                    fill: ReportPalette.needsLightText(value, limit: limit) ? "#ffffff" : "#1d2330")
            }
            rowY += cellHeight
        }
        if showScale { colourBar(&canvas, limit: limit, x: left, y: gridBottom + 18, width: barWidth) }
        return canvas.render(label: label)
    }

    private static func rowLabel(_ name: String) -> String {
        SVGCanvas.fitted(name, maxWidth: 156, size: 12)
    }

    private func columnPositions(_ columns: [Int?], start: Double, cell: Double, gap: Double) -> [Double] {
        var x = start
        var positions: [Double] = []
        for column in columns {
            positions.append(x)
            x += column == nil ? gap : cell
        }
        return positions
    }

    private func groupHeader(
        _ canvas: inout SVGCanvas, _ title: String, columns group: [Int], in columns: [Int?],
        xs: [Double], cell: Double
    ) {
        let slots = columns.indices.filter { columns[$0].map(group.contains) ?? false }
        guard let first = slots.first, let last = slots.last else { return }
        let x0 = xs[first] + 2
        let x1 = xs[last] + cell - 2
        canvas.line(x1: x0, y1: 20, x2: x1, y2: 20, stroke: "#9aa1ad", width: 1.5)
        canvas.text(title, x: (x0 + x1) / 2, y: 14, size: 11.5, anchor: .middle, weight: 600, fill: "#3b4252")
    }

    private func colourBar(_ canvas: inout SVGCanvas, limit: Double, x: Double, y: Double, width: Double) {
        let steps = 40
        for i in 0..<steps {
            let value = -limit + 2 * limit * (Double(i) + 0.5) / Double(steps)
            canvas.rect(
                x: x + width * Double(i) / Double(steps), y: y, width: width / Double(steps) + 0.6, height: 10,
                fill: ReportPalette.divergingColor(value, limit: limit))
        }
        for value in [-limit, -limit / 2, 0, limit / 2, limit] {
            let tx = x + width * (value + limit) / (2 * limit)
            canvas.line(x1: tx, y1: y + 10, x2: tx, y2: y + 14, stroke: "#5b6475")
            canvas.text(
                ReportFormat.signed(value, decimals: limit >= 10 ? 0 : 1), x: tx, y: y + 26, size: 10.5,
                anchor: .middle, fill: "#5b6475")
        }
        canvas.text(
            ChangeHeatmap.scaleCaption, x: x + width + 12, y: y + 9, size: 11,
            fill: "#5b6475")
    }

    private func mean(_ values: [Double]) -> Double {
        values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }
}
