import Foundation
import Kernel

/// One seed's run of a study: its strategies' results (the seed's own `seed-<s>/results.json` has the rest).
public struct SeedRun: Codable, Equatable {
    public var seed: UInt64
    public var strategies: [StrategyResult]
}

/// A strategy's summary metrics over the seeds: mean and 95% interval (`ConfidenceInterval`) of each, over the
/// seeds where it completed.
public struct StrategyIntervals: Codable, Equatable {
    public var name: String
    /// Seeds where the strategy completed (the intervals' sample size).
    public var completeSeeds: Int
    public var learning: ConfidenceInterval?
    public var heldOutChange: ConfidenceInterval?
    public var targetForgetting: ConfidenceInterval?
    public var backwardTransfer: ConfidenceInterval?
}

/// Combines the results of one study run with several seeds (each with its own base model) into one
/// `StudyResults`: `strategies` holds each strategy's mean over the seeds (every number averaged: accuracies,
/// metrics, probes), `seedRuns` each seed's own results, and `intervals` the mean and 95% interval of the summary
/// metrics. A strategy that did not complete with some seed keeps that seed's result (status and failure) in
/// `strategies`, with the seed named in its failure.
public enum SeedAggregate {
    public static func combine(_ runs: [(seed: UInt64, results: StudyResults)]) throws -> StudyResults {
        guard var combined = runs.first?.results else { throw HostError("no seed's results to combine") }
        combined.settings.seeds = runs.map(\.seed)
        combined.seedRuns = runs.map { SeedRun(seed: $0.seed, strategies: $0.results.strategies) }
        combined.strategies = try combined.strategies.indices.map { i in
            try mean(runs.map { ($0.seed, $0.results.strategies[i]) })
        }
        combined.intervals = combined.strategies.indices.map { i in
            let complete = runs.map { $0.results.strategies[i] }.filter { $0.status == "complete" }
            func interval(_ value: (StudyMetrics) -> Double) -> ConfidenceInterval? {
                ConfidenceInterval(complete.map { value($0.metrics) })
            }
            return StrategyIntervals(
                name: combined.strategies[i].name, completeSeeds: complete.count, learning: interval(\.learning),
                heldOutChange: interval(\.heldOutForgettingFinal), targetForgetting: interval(\.targetForgetting),
                backwardTransfer: interval(\.backwardTransfer))
        }
        let timings = runs.map(\.results.timings)
        combined.timings = Timings(
            startedAt: timings[0].startedAt, totalSeconds: timings.reduce(0) { $0 + $1.totalSeconds },
            pretrainSeconds: timings.reduce(0) { $0 + $1.pretrainSeconds },
            strategySeconds: timings.reduce(into: [:]) { sum, t in sum.merge(t.strategySeconds, uniquingKeysWith: +) })
        return combined
    }

    /// One strategy's mean over the seeds: every number of its results averaged (whole numbers, such as parameter
    /// counts, to the nearest whole number); a seed where it did not complete is returned instead.
    static func mean(_ results: [(seed: UInt64, result: StrategyResult)]) throws -> StrategyResult {
        if let (seed, incomplete) = results.first(where: { $0.result.status != "complete" }) {
            var result = incomplete
            result.failure = "seed \(seed): " + (incomplete.failure ?? incomplete.status)
            return result
        }
        let objects = try results.map { try JSONSerialization.jsonObject(with: JSONEncoder().encode($0.result)) }
        let averaged = averageJSON(objects)
        return try JSONDecoder().decode(StrategyResult.self, from: JSONSerialization.data(withJSONObject: averaged))
    }

    /// The element-wise mean of JSON values of one shape: numbers averaged (kept when all equal), objects and
    /// arrays recursively (arrays of different lengths and every other value taken from the first).
    static func averageJSON(_ values: [Any]) -> Any {
        guard let first = values.first else { return NSNull() }
        if let objects = values as? [[String: Any]] {
            var out: [String: Any] = [:]
            for (key, value) in objects[0] {
                let all = objects.compactMap { $0[key] }
                out[key] = all.count == objects.count ? averageJSON(all) : value
            }
            return out
        }
        if let arrays = values as? [[Any]] {
            guard arrays.allSatisfy({ $0.count == arrays[0].count }) else { return first }
            return arrays[0].indices.map { i in averageJSON(arrays.map { $0[i] }) }
        }
        // (StrategyResult has no Booleans, which JSONSerialization would also give as numbers.)
        if let numbers = values as? [NSNumber] {
            let doubles = numbers.map(\.doubleValue)
            if doubles.allSatisfy({ $0 == doubles[0] }) { return numbers[0] }
            let mean = doubles.reduce(0, +) / Double(doubles.count)
            // Counts (parameters, with a vocabulary that differs by seed) stay whole numbers.
            if doubles.allSatisfy({ $0 == $0.rounded() && abs($0) < 9e15 }) {
                return NSNumber(value: Int(mean.rounded()))
            }
            return NSNumber(value: mean)
        }
        return first
    }

}
