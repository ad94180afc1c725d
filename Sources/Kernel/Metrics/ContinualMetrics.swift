/// Continual-learning metrics from the accuracy matrix of a sequential-tuning run.
///
/// The input is `R[stage][benchmark]` for stages 0...S, where stage 0 is the base model before any tuning and
/// stage s is the model after the s-th tuning stage; every benchmark is evaluated after every stage. Each
/// target benchmark j is tuned at one stage s_j in 1...S (several targets may share a stage); held-out
/// benchmarks are never tuned on. All results are in the units of the input: pass accuracies in percent to
/// get changes in points, as the study reports them. Columns named in neither list are ignored.
///
/// Definitions (means are plain averages over the listed benchmarks):
/// - learning: mean over targets of R[s_j][j] - R[0][j] (accuracy right after tuning on j, minus base).
/// - held-out change at stage s: mean over held-out h of R[s][h] - R[0][h] (negative = forgot);
///   held-out forgetting is the value at s = S.
/// - target forgetting: mean over *all* targets of R[S][j] - R[s_j][j] (the last-tuned contribute 0).
/// - backward transfer (Lopez-Paz & Ranzato 2017, GEM): the same difference averaged only over targets tuned
///   before the last stage (s_j < S), i.e. (1/(T-1)) sum_{i<T} R[T][i] - R[i][i] with one target per stage;
///   nil when no target was tuned before stage S. Negative = forgetting of earlier targets.
/// - Chaudhry forgetting (Chaudhry et al. 2018, RWalk): over targets with s_j < S, the mean of
///   max_{l in s_j...S-1} R[l][j] - R[S][j] (best accuracy since tuning minus final; >= 0, positive = forgot);
///   nil when no target was tuned before stage S.
/// - average accuracy: mean over targets of R[S][j]; held-out average per stage: mean over held-out of R[s][h].
public struct ContinualMetrics: Codable, Equatable, Sendable {
    /// One target benchmark and the stage (1...S) at which it is tuned.
    public struct Target: Codable, Equatable, Sendable {
        public var benchmark: String
        public var stage: Int
        public init(benchmark: String, stage: Int) {
            self.benchmark = benchmark
            self.stage = stage
        }
    }

    /// What happened to one target benchmark over the run.
    public struct TargetOutcome: Codable, Equatable, Sendable {
        public var benchmark: String
        /// The stage s_j at which it was tuned.
        public var stage: Int
        /// R[0][j]: the base model's accuracy.
        public var base: Double
        /// R[s_j][j]: accuracy right after tuning on it.
        public var afterTuning: Double
        /// R[S][j]: accuracy at the end of the run.
        public var final: Double
        /// afterTuning - base.
        public var gain: Double { afterTuning - base }
        /// final - afterTuning (negative = forgot).
        public var changeSinceTuning: Double { final - afterTuning }
    }

    /// S, the number of tuning stages (the matrix has S + 1 rows).
    public var stageCount: Int
    /// Per target, in the order given.
    public var targets: [TargetOutcome]
    /// The held-out benchmarks, in the order given.
    public var heldOut: [String]

    /// Mean gain of the targets right after tuning on them.
    public var learning: Double
    /// Mean of R[S][j] over targets.
    public var averageAccuracy: Double
    /// Mean of R[S][j] - R[s_j][j] over all targets.
    public var targetForgetting: Double
    /// Mean of R[S][j] - R[s_j][j] over targets tuned before the last stage; nil if there are none.
    public var backwardTransfer: Double?
    /// Mean of max_{s_j <= l < S} R[l][j] - R[S][j] over targets tuned before the last stage; nil if none.
    public var chaudhryForgetting: Double?
    /// Mean held-out accuracy at stages 0...S; empty without held-out benchmarks.
    public var heldOutAveragePerStage: [Double]
    /// Mean held-out change from base at stages 0...S (the first entry is 0); empty without held-out.
    public var heldOutChangePerStage: [Double]
    /// The held-out change at the last stage; nil without held-out benchmarks.
    public var heldOutForgetting: Double?

    /// Computes every metric from the accuracy matrix.
    /// - Parameters:
    ///   - accuracies: R[stage][benchmark], stages 0...S (S >= 1), one column per name in `benchmarks`.
    ///   - benchmarks: the column names, unique.
    ///   - targets: the tuned benchmarks with their stages; at least one.
    ///   - heldOut: the benchmarks never tuned on; may be empty.
    public init(accuracies: [[Double]], benchmarks: [String], targets: [Target], heldOut: [String]) throws {
        let columns = try ContinualMetrics.validate(
            accuracies: accuracies, benchmarks: benchmarks,
            targets: targets, heldOut: heldOut)
        let R = accuracies
        let S = R.count - 1
        stageCount = S
        self.heldOut = heldOut

        self.targets = zip(targets, columns.targets).map { target, j in
            TargetOutcome(
                benchmark: target.benchmark, stage: target.stage,
                base: R[0][j], afterTuning: R[target.stage][j], final: R[S][j])
        }
        learning = mean(self.targets.map(\.gain))!
        averageAccuracy = mean(self.targets.map(\.final))!
        targetForgetting = mean(self.targets.map(\.changeSinceTuning))!

        let earlier = zip(targets, columns.targets).filter { $0.0.stage < S }
        backwardTransfer = mean(earlier.map { target, j in R[S][j] - R[target.stage][j] })
        chaudhryForgetting = mean(
            earlier.map { target, j in
                (target.stage..<S).map { R[$0][j] }.max()! - R[S][j]
            })

        let h = columns.heldOut
        heldOutAveragePerStage = h.isEmpty ? [] : (0...S).map { s in mean(h.map { R[s][$0] })! }
        heldOutChangePerStage = h.isEmpty ? [] : (0...S).map { s in mean(h.map { R[s][$0] - R[0][$0] })! }
        heldOutForgetting = heldOutChangePerStage.last
    }

    /// Checks the matrix and the benchmark lists; returns the column of every target and held-out benchmark.
    private static func validate(
        accuracies: [[Double]], benchmarks: [String], targets: [Target],
        heldOut: [String]
    ) throws -> (targets: [Int], heldOut: [Int]) {
        guard accuracies.count >= 2 else { throw ContinualMetricsError.tooFewStages(rows: accuracies.count) }
        var column: [String: Int] = [:]
        for (j, name) in benchmarks.enumerated() {
            guard column.updateValue(j, forKey: name) == nil else {
                throw ContinualMetricsError.duplicateBenchmark(name)
            }
        }
        for (s, row) in accuracies.enumerated() {
            guard row.count == benchmarks.count else {
                throw ContinualMetricsError.rowLength(stage: s, count: row.count, expected: benchmarks.count)
            }
            for (j, value) in row.enumerated() where !value.isFinite {
                throw ContinualMetricsError.nonFinite(stage: s, benchmark: benchmarks[j], value: value)
            }
        }
        guard !targets.isEmpty else { throw ContinualMetricsError.noTargets }
        let S = accuracies.count - 1
        var roles: [String: String] = [:]
        func claim(_ name: String, as role: String) throws -> Int {
            guard let j = column[name] else {
                throw ContinualMetricsError.unknownBenchmark(name, role: role, known: benchmarks)
            }
            if let previous = roles.updateValue(role, forKey: name) {
                throw ContinualMetricsError.listedTwice(name, first: previous, second: role)
            }
            return j
        }
        var targetColumns: [Int] = []
        for target in targets {
            targetColumns.append(try claim(target.benchmark, as: "target"))
            guard (1...S).contains(target.stage) else {
                throw ContinualMetricsError.targetStageOutOfRange(target.benchmark, stage: target.stage, stages: S)
            }
        }
        let heldOutColumns = try heldOut.map { try claim($0, as: "held-out") }
        return (targetColumns, heldOutColumns)
    }
}

/// Why continual metrics could not be computed.
public enum ContinualMetricsError: Error, CustomStringConvertible, Equatable {
    case tooFewStages(rows: Int)
    case rowLength(stage: Int, count: Int, expected: Int)
    case nonFinite(stage: Int, benchmark: String, value: Double)
    case duplicateBenchmark(String)
    case noTargets
    case unknownBenchmark(String, role: String, known: [String])
    case listedTwice(String, first: String, second: String)
    case targetStageOutOfRange(String, stage: Int, stages: Int)

    public var description: String {
        switch self {
        case .tooFewStages(let rows):
            return "accuracy matrix has \(rows) row(s); expected stage 0 (the base model) and at least one tuning stage"
        case .rowLength(let stage, let count, let expected):
            return
                "accuracy matrix row for stage \(stage) has \(count) value(s); expected \(expected), one per benchmark"
        case .nonFinite(let stage, let benchmark, let value):
            return "accuracy of \"\(benchmark)\" at stage \(stage) is \(value); expected a finite number"
        case .duplicateBenchmark(let name):
            return "benchmark \"\(name)\" names two columns of the accuracy matrix"
        case .noTargets:
            return "no target benchmarks given; expected at least one"
        case .unknownBenchmark(let name, let role, let known):
            return
                "\(role) benchmark \"\(name)\" is not a column of the accuracy matrix (columns: \(known.joined(separator: ", ")))"
        case .listedTwice(let name, let first, let second):
            return "benchmark \"\(name)\" is listed as \(first) and again as \(second); expected once"
        case .targetStageOutOfRange(let name, let stage, let stages):
            return
                "target \"\(name)\" is tuned at stage \(stage); expected a stage in 1...\(stages) (stage 0 is the base model)"
        }
    }
}

/// The mean of `values` summed in order; nil when empty.
private func mean(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    var sum = 0.0
    for v in values { sum += v }
    return sum / Double(values.count)
}
