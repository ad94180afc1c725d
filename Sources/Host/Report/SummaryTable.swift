import Kernel

/// The report's main table: one row per strategy with the study's summary numbers, tinted red (lost) to
/// blue (gained) on one shared scale so sizes compare across columns.
struct SummaryTable {
    let model: ReportModel

    private typealias Metric = (
        title: String, help: String, value: (ReportModel.Entry) -> Double,
        interval: ((StrategyIntervals) -> ConfidenceInterval?)?
    )

    private var metrics: [Metric] {
        [
            (
                "Learning", "Mean over targets of (accuracy right after training on it \u{2212} base), points.",
                { $0.result.metrics.learning }, { $0.learning }
            ),
            (
                "Held-out \u{394} final",
                "Mean over held-out benchmarks of (accuracy after the last stage \u{2212} base), points. Negative = forgot.",
                { $0.result.metrics.heldOutForgettingFinal }, { $0.heldOutChange }
            ),
            (
                "Held-out \u{394} worst",
                "The lowest held-out change after any stage (forgetting can spike and partly recover).",
                { entry in
                    model.perStage(entry.result.metrics.heldOutForgettingPerStage, of: entry).compactMap { $0 }.min()
                        ?? .nan
                }, nil
            ),
            (
                "Target forgetting",
                "Mean over targets of (final accuracy \u{2212} accuracy right after training on it), points.",
                { $0.result.metrics.targetForgetting }, { $0.targetForgetting }
            ),
            (
                "BWT", "Backward transfer over the targets trained before the last stage, points.",
                { $0.result.metrics.backwardTransfer }, { $0.backwardTransfer }
            ),
        ]
    }

    func render() -> String {
        let metrics = self.metrics
        let tintLimit = max(
            1,
            model.complete.flatMap { entry in metrics.map { abs($0.value(entry)) } }
                .filter(\.isFinite).max() ?? 1)
        var html = "<table class=\"summary\">\n<thead><tr><th class=\"rank\">#</th><th class=\"name\">Strategy</th>"
        for metric in metrics {
            html += "<th title=\"\(Markup.escape(metric.help))\">\(Markup.escape(metric.title))</th>"
        }
        html +=
            "<th title=\"Parameters that receive gradients, and their share of the whole model.\">Trainable params</th>"
        html += "<th>Time</th><th class=\"status\">Status</th></tr></thead>\n<tbody>\n"
        for (rank, entry) in model.entries.enumerated() {
            html += "<tr\(entry.isComplete ? "" : " class=\"failed\"")>"
            html += "<td class=\"rank\">\(entry.isComplete ? String(rank + 1) : "")</td>"
            html += "<td class=\"name\">\(nameCell(entry))</td>"
            for metric in metrics {
                let interval = model.intervals(entry).flatMap { metric.interval?($0) }
                html += metricCell(entry.isComplete ? metric.value(entry) : .nan, interval: interval, limit: tintLimit)
            }
            let parameters = entry.result
            html +=
                "<td class=\"params\">\(ReportFormat.count(parameters.trainableParameters))"
                + "<span class=\"share\">\(ReportFormat.percent(parameters.trainableParameters, of: parameters.totalParameters))</span></td>"
            html += "<td class=\"time\">\(model.seconds(entry).map(ReportFormat.duration) ?? ReportFormat.missing)</td>"
            html +=
                "<td class=\"status\"><span class=\"badge \(entry.isComplete ? "ok" : "bad")\">"
                + "\(Markup.escape(entry.result.status))</span></td></tr>\n"
        }
        html += "</tbody>\n</table>\n"
        return html
    }

    private func nameCell(_ entry: ReportModel.Entry) -> String {
        var html = Legend.swatch(entry.style) + "<strong>\(Markup.escape(entry.name))</strong>"
        if entry.isParetoOptimal {
            html +=
                " <span class=\"pareto\" title=\"On the Pareto front: no other strategy learns more and forgets less\">Pareto</span>"
        }
        if !entry.result.summary.isEmpty {
            html += "<div class=\"summary-text\">\(Markup.escape(entry.result.summary))</div>"
        }
        if !entry.result.options.isEmpty {
            let options = entry.result.options.map { "\($0.name)=\($0.value)" }.joined(separator: ", ")
            html += "<div class=\"options\">\(Markup.escape(options))</div>"
        }
        if !entry.isComplete {
            let why = entry.result.failure ?? "incomplete results"
            let reached =
                entry.measuredStages > 0
                ? model.stages[entry.measuredStages - 1] : "nothing"
            html += "<div class=\"failure\">\(Markup.escape(why)) (measured through: \(Markup.escape(reached)))</div>"
        }
        return html
    }

    /// A metric's cell; with several seeds, the mean and its 95% interval (± half-width).
    private func metricCell(_ value: Double, interval: ConfidenceInterval?, limit: Double) -> String {
        guard value.isFinite else { return "<td class=\"num missing\">\(ReportFormat.missing)</td>" }
        let tint = ReportPalette.divergingColor(value, limit: limit, strength: 0.5)
        var text = ReportFormat.signed(value)
        if let interval, let half = interval.halfWidth {
            text +=
                "<span class=\"interval\" title=\"95% interval over \(interval.count) seeds: "
                + "\(ReportFormat.signed(value - half)) to \(ReportFormat.signed(value + half))\"> \u{B1} "
                + "\(ReportFormat.plain(half))</span>"
        }
        return "<td class=\"num\" style=\"background:\(tint)\">\(text)</td>"
    }
}
