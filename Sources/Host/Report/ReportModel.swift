/// What the report derives once from `StudyResults`: table order, a fixed style per strategy, and which
/// numbers are complete enough to chart.
///
/// A strategy is *complete* when its status is "complete" and its accuracy matrix has one finite row of full
/// width per stage; only complete strategies appear in charts of final numbers. Per-stage curves of a failed
/// strategy stop at its last fully measured stage.
struct ReportModel {
    struct Entry {
        let result: StrategyResult
        /// Position in `results.strategies`; fixes the style, whatever the table order.
        let index: Int
        let style: SeriesStyle
        let isComplete: Bool
        /// Number of leading stages (base included) whose accuracy row is fully measured.
        let measuredStages: Int
        /// No other complete strategy both learns more and forgets less (or equal, with one strictly better).
        var isParetoOptimal = false

        var name: String { result.name }
    }

    let results: StudyResults
    /// Complete strategies by learning (highest first), then the others in their original order.
    let entries: [Entry]

    init(_ results: StudyResults) {
        self.results = results
        let stageCount = results.stages.count
        let benchmarkCount = results.benchmarks.count
        var all = results.strategies.enumerated().map { index, result -> Entry in
            var measured = 0
            for row in result.accuracy {
                guard row.count == benchmarkCount, row.allSatisfy(\.isFinite) else { break }
                measured += 1
            }
            measured = min(measured, stageCount)
            let complete =
                result.status == "complete" && measured == stageCount && stageCount > 0
                && result.metrics.learning.isFinite && result.metrics.heldOutForgettingFinal.isFinite
            return Entry(
                result: result, index: index, style: ReportPalette.style(forStrategyAt: index),
                isComplete: complete, measuredStages: measured)
        }
        for i in all.indices where all[i].isComplete {
            let me = all[i].result.metrics
            let dominated = all.contains { other in
                guard other.isComplete else { return false }
                let them = other.result.metrics
                return them.learning >= me.learning && them.heldOutForgettingFinal >= me.heldOutForgettingFinal
                    && (them.learning > me.learning || them.heldOutForgettingFinal > me.heldOutForgettingFinal)
            }
            all[i].isParetoOptimal = !dominated
        }
        let complete = all.filter(\.isComplete).sorted { a, b in
            let la = a.result.metrics.learning
            let lb = b.result.metrics.learning
            if la != lb { return la > lb }
            let fa = a.result.metrics.heldOutForgettingFinal
            let fb = b.result.metrics.heldOutForgettingFinal
            if fa != fb { return fa > fb }
            return a.index < b.index
        }
        entries = complete + all.filter { !$0.isComplete }
    }

    var complete: [Entry] { entries.filter(\.isComplete) }
    var stages: [String] { results.stages }
    var benchmarks: [BenchmarkInfo] { results.benchmarks }

    /// Entries in their original order (for legends).
    var entriesInResultOrder: [Entry] { entries.sorted { $0.index < $1.index } }

    /// A per-stage metric limited to the stages the strategy fully measured; nil where missing or not finite.
    func perStage(_ values: [Double], of entry: Entry) -> [Double?] {
        (0..<stages.count).map { stage in
            guard stage < entry.measuredStages, stage < values.count, values[stage].isFinite else { return nil }
            return values[stage]
        }
    }

    /// Mean number-token probability mass on one probe split (`\.heldOut` or `\.counting`) after every stage,
    /// nil where not probed (or the split had no prompts: a study without a counting benchmark).
    func numberMass(_ entry: Entry, split: KeyPath<CountingBiasResult, CountingBiasSplit>) -> [Double?] {
        let probes = entry.result.countingBias
        let byName = Dictionary(probes.map { ($0.stage, $0) }, uniquingKeysWith: { first, _ in first })
        let namesMatch = probes.contains { stages.contains($0.stage) }
        return (0..<stages.count).map { stage in
            let probe = namesMatch ? byName[stages[stage]] : (stage < probes.count ? probes[stage] : nil)
            guard let measured = probe?[keyPath: split], measured.samples > 0, stage < entry.measuredStages,
                measured.numberMassMean.mean.isFinite
            else { return nil }
            let mass = measured.numberMassMean.mean
            return mass
        }
    }

    /// Accuracy change from base to after `stage` on every benchmark (the strategy must have measured it).
    func change(_ entry: Entry, afterStage stage: Int) -> [Double] {
        let base = entry.result.accuracy[0]
        let now = entry.result.accuracy[stage]
        return zip(now, base).map { $0 - $1 }
    }

    /// The base model's accuracies, from the first strategy that measured them.
    var baseAccuracy: [Double]? {
        entries.first { $0.measuredStages > 0 }?.result.accuracy[0]
    }

    /// The strategy's intervals over seeds, when the study ran several.
    func intervals(_ entry: Entry) -> StrategyIntervals? {
        results.intervals?.first { $0.name == entry.name }
    }

    /// Seconds the strategy took, when recorded.
    func seconds(_ entry: Entry) -> Double? {
        results.timings.strategySeconds[entry.name]
    }
}
