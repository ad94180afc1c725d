/// Small multiples of the layer-shift probe: for one strategy, per decoder layer, how far the attention and
/// MLP outputs moved (projected through lm_head) from the base model. Panels share one y scale so they can be
/// compared across strategies.
struct LayerShiftBars {
    static let attentionColor = "#8fa8c8"
    static let mlpColor = "#2f3e57"

    var name: String
    var style: SeriesStyle
    var shift: LayerShiftResult
    /// The shared top of the y scale.
    var scaleMaximum: Double
    var width = 272.0
    var height = 196.0

    func render() -> String {
        let area = PlotArea(left: 50, top: 30, width: width - 50 - 10, height: height - 30 - 34)
        var canvas = SVGCanvas(width: width, height: height)
        let ticks = NiceTicks(covering: 0, scaleMaximum > 0 ? scaleMaximum : 1, targetCount: 3)
        let y = LinearScale(domain: (0, ticks.upper * 1.04), range: (area.bottom, area.top))
        canvas.marker(style.marker, x: 7, y: 11, size: 9, fill: style.color)
        canvas.text(
            SVGCanvas.fitted(name, maxWidth: width - 130, size: 12.5), x: 16, y: 15, size: 12.5, weight: 700,
            fill: "#1d2330", title: name)
        let attentionTotal = shift.attention.filter(\.isFinite).reduce(0, +)
        let mlpTotal = shift.mlp.filter(\.isFinite).reduce(0, +)
        if attentionTotal + mlpTotal > 0 {
            let share = 100 * mlpTotal / (attentionTotal + mlpTotal)
            canvas.text(
                "MLP share \(ReportFormat.plain(share, decimals: 0))%", x: width - 6, y: 15, size: 10.5,
                anchor: .end, fill: "#5b6475")
        }
        for value in ticks.values {
            let ty = y(value)
            canvas.line(x1: area.left, y1: ty, x2: area.right, y2: ty, stroke: "#eceef1")
            canvas.text(ticks.label(value), x: area.left - 5, y: ty + 3.5, size: 9.5, anchor: .end, fill: "#5b6475")
        }
        let layers = max(shift.attention.count, shift.mlp.count)
        let slot = area.width / Double(max(1, layers))
        let bar = max(1, min(18, slot * 0.38))
        let labelEvery = max(1, Int((18 / slot).rounded(.up)))
        for layer in 0..<layers {
            let x = area.left + Double(layer) * slot + slot / 2
            let attention = layer < shift.attention.count ? shift.attention[layer] : .nan
            let mlp = layer < shift.mlp.count ? shift.mlp[layer] : .nan
            for (value, offset, color, part) in [
                (attention, -bar, LayerShiftBars.attentionColor, "attention"),
                (mlp, 0.0, LayerShiftBars.mlpColor, "MLP"),
            ] where value.isFinite {
                let top = y(min(max(0, value), ticks.upper))
                canvas.rect(
                    x: x + offset, y: top, width: bar, height: area.bottom - top, fill: color,
                    title: "\(name), layer \(layer) \(part): \(ReportFormat.plain(value, decimals: 3))")
            }
            if layer % labelEvery == 0 {
                canvas.text(String(layer), x: x, y: area.bottom + 13, size: 9.5, anchor: .middle, fill: "#5b6475")
            }
        }
        canvas.line(x1: area.left, y1: area.bottom, x2: area.right, y2: area.bottom, stroke: "#9aa1ad")
        if attentionTotal + mlpTotal == 0 {
            canvas.text(
                "no shift measured", x: area.left + area.width / 2, y: area.top + area.height / 2, size: 11.5,
                anchor: .middle, fill: "#8a93a3")
        }
        canvas.text(
            "decoder layer", x: area.left + area.width / 2, y: area.bottom + 27, size: 10, anchor: .middle,
            fill: "#5b6475")
        return canvas.render(label: "Layer shift of \(name) after \(shift.stage)")
    }
}
