import Foundation
import Kernel

/// The report's section on the label-free forgetting monitor (`--probe-at`): KL to the base and counting bias
/// over the training steps of every stage, and how well each ranks the held-out change the benchmarks measured
/// (Spearman's rank correlation over strategies and stages).
enum MonitorSection {
    /// A signal's value at each stage's last step, against the held-out change after that stage.
    struct Pairs {
        var signal: [Double] = []
        var change: [Double] = []
        var correlation: Double? { RankCorrelation.spearman(signal, change) }
    }

    /// Pairs over the complete strategies with a monitor: (value at the stage's end, held-out change after it).
    static func pairs(_ model: ReportModel, _ value: (MonitorPoint) -> Double) -> Pairs {
        var pairs = Pairs()
        for entry in model.complete {
            guard let monitor = entry.result.monitor else { continue }
            let changes = entry.result.metrics.heldOutForgettingPerStage
            for (k, stage) in monitor.enumerated() where k + 1 < changes.count {
                guard let last = stage.points.last else { continue }
                pairs.signal.append(value(last))
                pairs.change.append(changes[k + 1])
            }
        }
        return pairs
    }

    static func render(_ model: ReportModel) -> String {
        let monitored = model.entriesInResultOrder.filter { $0.result.monitor != nil }
        guard !monitored.isEmpty else { return "" }
        let kl = pairs(model, \.klToBase)
        let bias = pairs(model, \.heldOutNumberMass)
        func rho(_ p: Pairs) -> String {
            p.correlation.map {
                "Spearman \u{3C1} = \(ReportFormat.signed($0, decimals: 2)) over \(p.signal.count) stage ends"
            }
                ?? "too few stage ends for a rank correlation"
        }
        var html = "<section><h2>Forgetting without labels</h2>\n<p class=\"note\">At the <code>--probe-at</code> "
        html += "steps of every stage (and its last), the KL divergence of the tuned model's next-token distribution "
        html += "from the base model's on held-out prompts, and the counting bias (number-token mass on held-out "
        html += "prompts): signals that need no held-out labels. How they rank the held-out change measured after "
        html += "each stage: KL to base, \(Markup.escape(rho(kl))) (negative: more divergence, more forgetting); "
        html += "counting bias, \(Markup.escape(rho(bias))).</p>\n"
        // One x position per probed step of every stage: "stage step".
        let steps = Array(Set(monitored.flatMap { $0.result.monitor!.flatMap { $0.points.map(\.step) } })).sorted()
        let stages = Array(model.stages.dropFirst())
        let positions = stages.flatMap { stage in steps.map { (stage, $0) } }
        func series(_ value: @escaping (MonitorPoint) -> Double) -> [StageLineChart.Series] {
            monitored.map { entry in
                let points = entry.result.monitor!
                let values = positions.map { stage, step -> Double? in
                    points.first { $0.stage == stage }?.points.first { $0.step == step }.map(value)
                }
                return StageLineChart.Series(
                    name: entry.name, style: entry.style, values: values, failed: !entry.isComplete)
            }
        }
        let labels = positions.map { "\($0.0) \($0.1)" }
        var klChart = StageLineChart(
            label: "KL to the base model on held-out prompts over training steps", stages: labels,
            series: series(\.klToBase), yTitle: "KL(tuned \u{2016} base), nats", includeZero: true)
        klChart.xTitle = "stage and step"
        klChart.decimals = 3
        var biasChart = StageLineChart(
            label: "Counting bias on held-out prompts over training steps", stages: labels,
            series: series { 100 * $0.heldOutNumberMass }, yTitle: "number-token mass (%)", valueSuffix: "%",
            includeZero: true, minimumSpan: 10)
        biasChart.xTitle = "stage and step"
        html += Legend.render(monitored)
        html += "<div class=\"row\">"
        html += ReportFigures.figure("KL to base over steps", "nats; \(rho(kl))", klChart.render())
        html += ReportFigures.figure("Counting bias over steps", "percent; \(rho(bias))", biasChart.render())
        return html + "</div></section>\n"
    }
}
