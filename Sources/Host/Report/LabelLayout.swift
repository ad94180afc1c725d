/// Deterministic placement of chart labels so they do not overlap each other or the data points.
enum LabelLayout {
    struct Box {
        var x0, y0, x1, y1: Double
        func overlap(_ other: Box) -> Double {
            let w = min(x1, other.x1) - max(x0, other.x0)
            let h = min(y1, other.y1) - max(y0, other.y0)
            return w > 0 && h > 0 ? w * h : 0
        }
        func outside(of bounds: Box) -> Double {
            max(0, bounds.x0 - x0) + max(0, x1 - bounds.x1) + max(0, bounds.y0 - y0) + max(0, y1 - bounds.y1)
        }
    }

    /// Spreads 1-D label positions (e.g. line-end labels) at least `gap` apart within `lower...upper`,
    /// keeping their order and staying as close as possible to where they want to be.
    static func spread(_ wanted: [Double], gap: Double, lower: Double, upper: Double) -> [Double] {
        guard !wanted.isEmpty else { return [] }
        let order = wanted.indices.sorted { wanted[$0] != wanted[$1] ? wanted[$0] < wanted[$1] : $0 < $1 }
        let gap = wanted.count > 1 ? min(gap, (upper - lower) / Double(wanted.count - 1)) : gap
        var placed = order.map { min(max(wanted[$0], lower), upper) }
        for i in 1..<max(1, placed.count) { placed[i] = max(placed[i], placed[i - 1] + gap) }
        if let last = placed.last, last > upper {
            placed[placed.count - 1] = upper
            for i in stride(from: placed.count - 2, through: 0, by: -1) {
                placed[i] = min(placed[i], placed[i + 1] - gap)
            }
        }
        var result = wanted
        for (slot, index) in order.enumerated() { result[index] = placed[slot] }
        return result
    }

    /// Small boxes every few pixels along a polyline, so labels keep off the line.
    static func boxes(along line: [(x: Double, y: Double)], every spacing: Double = 5) -> [Box] {
        var boxes: [Box] = []
        for (a, b) in zip(line, line.dropFirst()) {
            let length = ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
            let steps = max(1, Int(length / spacing))
            for i in 0...steps {
                let t = Double(i) / Double(steps)
                let x = a.x + (b.x - a.x) * t
                let y = a.y + (b.y - a.y) * t
                boxes.append(Box(x0: x - 1.5, y0: y - 1.5, x1: x + 1.5, y1: y + 1.5))
            }
        }
        return boxes
    }

    /// Where to put a text label next to each point.
    struct Placement {
        /// Text anchor point and alignment.
        var x: Double
        var y: Double
        var anchor: SVGCanvas.TextAnchor
        /// True when the label sits away from its point and needs a leader line.
        var needsLeader: Bool
    }

    /// Places one label per point, trying positions around the point (near ones first, then farther ones
    /// with a leader line) and taking the first that overlaps nothing, else the least overlapping.
    static func place(
        points: [(x: Double, y: Double)], labels: [String], size: Double, pointRadius: Double,
        bounds: Box, obstacles: [Box] = []
    ) -> [Placement] {
        let height = size * 1.2
        var taken =
            obstacles
            + points.map {
                Box(
                    x0: $0.x - pointRadius, y0: $0.y - pointRadius,
                    x1: $0.x + pointRadius, y1: $0.y + pointRadius)
            }
        var placements: [Placement] = []
        for (point, label) in zip(points, labels) {
            let width = SVGCanvas.estimatedWidth(label, size: size)
            var best: (score: Double, placement: Placement, box: Box)?
            search: for distance in [pointRadius + 4, pointRadius + 16, pointRadius + 30] {
                for (dx, dy) in [(1.0, 0.0), (-1, 0), (0, -1), (0, 1), (1, -1), (1, 1), (-1, -1), (-1, 1)] {
                    let cx = point.x + dx * distance
                    let cy = point.y + dy * distance * 0.8
                    let anchor: SVGCanvas.TextAnchor = dx > 0 ? .start : dx < 0 ? .end : .middle
                    let x0 = anchor == .start ? cx : anchor == .end ? cx - width : cx - width / 2
                    let box = Box(x0: x0 - 2, y0: cy - height / 2, x1: x0 + width + 2, y1: cy + height / 2)
                    let score = taken.reduce(0) { $0 + box.overlap($1) } + 1000 * box.outside(of: bounds)
                    let placement = Placement(
                        x: cx, y: cy + size * 0.35, anchor: anchor,
                        needsLeader: distance > pointRadius + 4)
                    if best == nil || score < best!.score { best = (score, placement, box) }
                    if score == 0 { break search }
                }
            }
            taken.append(best!.box)
            placements.append(best!.placement)
        }
        return placements
    }
}
