/// The strategy legend in HTML: a marker in the strategy's colour and shape, and a short line in its dash,
/// drawn with CSS so it costs no extra SVG.
enum Legend {
    /// A small marker for tables and legends.
    static func swatch(_ style: SeriesStyle) -> String {
        let shape: String
        switch style.marker {
        case .circle: shape = "circle"
        case .square: shape = "square"
        case .triangle: shape = "triangle"
        case .diamond: shape = "diamond"
        }
        return "<span class=\"swatch \(shape)\" style=\"background:\(style.color)\"></span>"
    }

    /// One legend item per strategy, in the results' order; strategies not drawn are listed as such.
    static func render(_ entries: [ReportModel.Entry]) -> String {
        var html = "<div class=\"legend\">"
        for entry in entries {
            let line = entry.style.dash == nil ? "solid" : "dashed"
            html +=
                "<span class=\"item\(entry.isComplete ? "" : " muted")\">"
                + "<span class=\"line \(line)\" style=\"border-color:\(entry.style.color)\"></span>"
                + swatch(entry.style) + Markup.escape(entry.name)
                + (entry.isComplete ? "" : " <em>(failed)</em>") + "</span>"
        }
        return html + "</div>\n"
    }
}
