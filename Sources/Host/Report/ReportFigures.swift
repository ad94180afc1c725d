/// The report's figure sections, each an HTML `<section>` with captions, a legend and inline SVG charts.
enum ReportFigures {
    /// The learning-vs-forgetting scatter next to the held-out average per stage (the study's Figure 1).
    static func tradeoffAndFigure1(_ model: ReportModel) -> String {
        var html = "<section><h2>Learning versus forgetting</h2>\n"
        html +=
            "<p class=\"note\">Left: each strategy's learning against its held-out change after the last stage; "
            + "the top-right corner is the goal, the dashed line joins the Pareto front. Right: the mean held-out "
            + "accuracy after every stage (the study's Figure 1); forgetting can spike after a stage and partly "
            + "recover after later ones.\(excludedNote(model))\(seedsNote(model))</p>\n"
        html += Legend.render(model.entriesInResultOrder)
        let points = model.complete.map {
            TradeoffScatter.Point(
                name: $0.name, style: $0.style, forgetting: $0.result.metrics.heldOutForgettingFinal,
                learning: $0.result.metrics.learning, paretoOptimal: $0.isParetoOptimal,
                forgettingHalfWidth: model.intervals($0)?.heldOutChange?.halfWidth,
                learningHalfWidth: model.intervals($0)?.learning?.halfWidth)
        }
        let heldOut = model.benchmarks.indices.filter { model.benchmarks[$0].role != "target" }
        let base = model.baseAccuracy.flatMap { row in
            heldOut.isEmpty ? nil : heldOut.map { row[$0] }.reduce(0, +) / Double(heldOut.count)
        }
        let figure1 = StageLineChart(
            label: "Held-out average accuracy after each stage, per strategy", stages: model.stages,
            series: model.entriesInResultOrder.map {
                .init(
                    name: $0.name, style: $0.style,
                    values: model.perStage($0.result.metrics.heldOutAveragePerStage, of: $0), failed: !$0.isComplete)
            },
            yTitle: "held-out average accuracy (%)",
            reference: base.map { ($0, "base \(ReportFormat.plain($0))") }, minimumSpan: 10)
        html += "<div class=\"row\">"
        html += figure(
            "Learning vs held-out forgetting", "points; one marker per strategy",
            TradeoffScatter(points: points).render())
        html += figure("Held-out average per stage", "percent; dashed line = base model", figure1.render())
        return html + "</div></section>\n"
    }

    /// With several seeds: what the numbers and error bars are.
    static func seedsNote(_ model: ReportModel) -> String {
        guard let seeds = model.results.settings.seeds else { return "" }
        return " Each number is the mean over \(seeds.count) seeds (\(seeds.map(String.init).joined(separator: ", ")); "
            + "each with its own base model); error bars and \u{B1} give the 95% interval (Student's t)."
    }

    /// The final change per benchmark, plus one collapsed heatmap per stage on the same colour scale.
    static func heatmaps(_ model: ReportModel) -> String {
        var html =
            "<section><h2>Where accuracy moved</h2>\n<p class=\"note\">Accuracy change from the base model "
            + "after the last stage, per strategy and benchmark (points). Target columns show what was learned and "
            + "kept; held-out columns show what was forgotten. The first row gives the base accuracies.\(excludedNote(model))</p>\n"
        let complete = model.complete
        guard !complete.isEmpty, model.stages.count > 0 else {
            return html + "<p class=\"empty\">No strategy completed every stage.</p></section>\n"
        }
        let last = model.stages.count - 1
        let tunedStages = 1..<max(1, model.stages.count)
        let largest =
            complete.flatMap { entry in tunedStages.flatMap { model.change(entry, afterStage: $0) } }
            .filter(\.isFinite).map(abs).max() ?? 0
        let limit = NiceTicks(covering: 0, max(5, largest), targetCount: 4).upper
        func heatmap(after stage: Int, summary: Bool) -> ChangeHeatmap {
            ChangeHeatmap(
                label: "Accuracy change vs base after stage \(model.stages[stage])", benchmarks: model.benchmarks,
                rows: complete.map {
                    .init(name: $0.name, style: $0.style, changes: model.change($0, afterStage: stage))
                },
                baseAccuracy: summary ? model.baseAccuracy : nil, limit: limit, showScale: summary)
        }
        html += "<div class=\"scroll\">" + heatmap(after: last, summary: true).render() + "</div>\n"
        if model.stages.count > 2 {
            html +=
                "<details><summary>Per-stage heatmaps (change vs base after each stage, same colour scale)</summary>\n"
            for stage in 1..<last {
                html += "<h3>After stage \(stage): \(Markup.escape(model.stages[stage]))</h3>"
                html += "<div class=\"scroll\">" + heatmap(after: stage, summary: false).render() + "</div>\n"
            }
            html += "</details>\n"
        }
        return html + "</section>\n"
    }

    /// The counting-bias probe (number-token mass on held-out prompts) next to held-out forgetting per stage,
    /// then the two against each other, and the bias on counting prompts (the target split).
    static func countingBias(_ model: ReportModel) -> String {
        var html = "<section><h2>Output distribution shift: counting bias next to forgetting</h2>\n"
        html +=
            "<p class=\"note\">Top left: mean probability mass the model puts on number tokens while answering "
            + "held-out caption-style prompts (higher = more biased toward numbers). Top right: held-out change after "
            + "every stage. Bottom: the two against each other, and the same mass on counting prompts. In the study "
            + "they move together: narrow tuning (counting especially) shifts the output distribution, and that "
            + "shift tracks forgetting.</p>\n"
        html += Legend.render(model.entriesInResultOrder)
        let drawn = model.entriesInResultOrder.filter { $0.measuredStages > 0 }
        func percent(_ values: [Double?]) -> [Double?] { values.map { $0.map { $0 * 100 } } }
        let heldOutBias = drawn.map { ($0, percent(model.numberMass($0, split: \.heldOut))) }
        let forgetting = drawn.map { ($0, model.perStage($0.result.metrics.heldOutForgettingPerStage, of: $0)) }
        func series(_ rows: [(ReportModel.Entry, [Double?])]) -> [StageLineChart.Series] {
            rows.map { .init(name: $0.0.name, style: $0.0.style, values: $0.1, failed: !$0.0.isComplete) }
        }
        let probed = heldOutBias.contains { $0.1.contains { $0 != nil } }

        html += "<div class=\"row\">"
        if probed {
            let chart = StageLineChart(
                label: "Number-token probability mass on held-out prompts per stage",
                stages: model.stages, series: series(heldOutBias),
                yTitle: "number-token mass (%)", valueSuffix: "%", includeZero: true,
                minimumSpan: 10)
            html += figure("Counting bias on held-out prompts", "percent; mean over generated steps", chart.render())
        } else {
            html +=
                "<figure><figcaption>Counting bias on held-out prompts</figcaption>"
                + "<p class=\"empty\">No counting-bias probe was recorded in these results.</p></figure>"
        }
        let forgettingChart = StageLineChart(
            label: "Held-out change from base per stage", stages: model.stages,
            series: series(forgetting), yTitle: "held-out change (points)",
            signedValues: true, reference: (0, "base"), includeZero: true,
            minimumSpan: 10)
        html += figure("Held-out forgetting per stage", "points; 0 = the base model", forgettingChart.render())
        html += "</div>\n"
        guard probed else { return html + "</section>\n" }

        var points: [BiasForgettingScatter.Point] = []
        for ((entry, bias), (_, change)) in zip(heldOutBias, forgetting) {
            for stage in 1..<max(1, model.stages.count) {
                guard let b = bias[stage], let c = change[stage] else { continue }
                points.append(
                    .init(name: entry.name, stage: model.stages[stage], style: entry.style, bias: b, change: c))
            }
        }
        let scatter = BiasForgettingScatter(
            points: points, baseBias: heldOutBias.lazy.compactMap { $0.1.first ?? nil }.first)
        let r =
            scatter.correlation.map { "Pearson r = \(ReportFormat.signed($0, decimals: 2)), \(points.count) points" }
            ?? "too few points for a correlation"
        let countingBias = drawn.map { ($0, percent(model.numberMass($0, split: \.counting))) }
        let countingChart = StageLineChart(
            label: "Number-token probability mass on counting prompts per stage",
            stages: model.stages, series: series(countingBias),
            yTitle: "number-token mass (%)", valueSuffix: "%", includeZero: true,
            minimumSpan: 10)
        html += "<div class=\"row\">"
        html += figure("Bias against forgetting", "per strategy and stage; \(r)", scatter.render())
        if countingBias.contains(where: { $0.1.contains { $0 != nil } }) {
            html += figure("Counting bias on counting prompts", "percent; the target split", countingChart.render())
        } else {
            html +=
                "<p class=\"empty\">No counting prompts in this study (no counting target), so the counting split "
                + "of the counting-bias probe is empty.</p>"
        }
        return html + "</div></section>\n"
    }

    /// Per-layer attention and MLP output shift after the last stage, one panel per complete strategy.
    static func layerShift(_ model: ReportModel) -> String {
        let panels = model.complete.compactMap { entry in entry.result.layerShift.last.map { (entry, $0) } }
        var html =
            "<section><h2>Which layers moved</h2>\n<p class=\"note\">Per decoder layer, the size of the change "
            + "of the attention output and of the MLP output in output-token space, ||W_tuned h_tuned - W_base h_base|| "
            + "with each model's own lm_head, averaged over the answer tokens of held-out examples, after the last "
            + "stage. All panels share one scale.</p>\n"
        guard !panels.isEmpty else {
            let why =
                model.complete.isEmpty
                ? "No strategy completed, so there is no final layer shift to show."
                : "No layer-shift probe was recorded in these results."
            return html + "<p class=\"empty\">\(why)</p></section>\n"
        }
        html +=
            "<div class=\"key\"><span style=\"--c:\(LayerShiftBars.attentionColor)\">attention output</span>"
            + "<span style=\"--c:\(LayerShiftBars.mlpColor)\">MLP output</span></div>\n"
        let largest = panels.flatMap { $0.1.attention + $0.1.mlp }.filter(\.isFinite).max() ?? 0
        // Up to four panels a row, filling the section's width (about 1136 px inside the card).
        let perRow = min(4, max(2, panels.count))
        let panelWidth = ((1136 - 18 * Double(perRow - 1)) / Double(perRow)).rounded(.down)
        html += "<div class=\"grid-panels\" style=\"grid-template-columns: repeat(\(perRow), minmax(0, 1fr))\">"
        for (entry, shift) in panels {
            html +=
                "<figure>"
                + LayerShiftBars(
                    name: entry.name, style: entry.style, shift: shift,
                    scaleMaximum: largest, width: panelWidth
                ).render() + "</figure>\n"
        }
        return html + "</div></section>\n"
    }

    static func figure(_ title: String, _ detail: String, _ svg: String) -> String {
        "<figure><figcaption>\(Markup.escape(title)) <span>\(Markup.escape(detail))</span></figcaption>\(svg)</figure>\n"
    }

    private static func excludedNote(_ model: ReportModel) -> String {
        let failed = model.entries.filter { !$0.isComplete }.map { Markup.escape($0.name) }
        guard !failed.isEmpty else { return "" }
        return " Not complete, so left out of final numbers: \(failed.joined(separator: ", "))."
    }
}
