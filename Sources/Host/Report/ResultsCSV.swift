import Foundation

/// `results.csv`: the accuracy matrices of a study in long form, for spreadsheets and data frames.
///
/// Columns: `strategy,stage_index,stage,benchmark,role,accuracy,status`. One row per strategy x stage x
/// benchmark, in the order of `results.strategies`, then stages (0 = base), then benchmarks (targets in
/// training order, then held-out), so every strategy has the same number of rows. `accuracy` is in percent
/// with at most six decimals and trailing zeros dropped; it is empty where nothing was measured (the stages
/// after a failure). `status` is the strategy's status ("complete", "failed" or "missing"). A study run with
/// several seeds has every seed's rows, with a last column `seed`. Fields are quoted as RFC 4180
/// asks (when they hold a comma, a quote, a line break, or leading/trailing spaces); lines end with "\n".
public enum ResultsCSV {
    public static let header = ["strategy", "stage_index", "stage", "benchmark", "role", "accuracy", "status"]

    public static func render(_ results: StudyResults) -> String {
        guard let runs = results.seedRuns else {
            return ([header] + rows(results.strategies, of: results)).map(line).joined()
        }
        // Several seeds: every seed's rows, with the seed in a last column (the means are in results.json).
        var lines = [header + ["seed"]]
        for run in runs { lines += rows(run.strategies, of: results).map { $0 + [String(run.seed)] } }
        return lines.map(line).joined()
    }

    static func line(_ fields: [String]) -> String { fields.map(quoted).joined(separator: ",") + "\n" }

    /// The rows of `strategies`: strategy x stage x benchmark.
    static func rows(_ strategies: [StrategyResult], of results: StudyResults) -> [[String]] {
        var rows: [[String]] = []
        rows.reserveCapacity(strategies.count * results.stages.count * results.benchmarks.count)
        for strategy in strategies {
            for (stageIndex, stage) in results.stages.enumerated() {
                for (benchmarkIndex, benchmark) in results.benchmarks.enumerated() {
                    let accuracy = measuredAccuracy(strategy, stage: stageIndex, benchmark: benchmarkIndex)
                    rows.append([
                        strategy.name, String(stageIndex), stage, benchmark.name, benchmark.role,
                        accuracy.map { ReportFormat.trimmed($0, decimals: 6) } ?? "", strategy.status,
                    ])
                }
            }
        }
        return rows
    }

    /// The field as RFC 4180 writes it: quoted (with inner quotes doubled) only when it has to be.
    public static func quoted(_ field: String) -> String {
        let needsQuotes =
            field.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
            || field.first == " " || field.last == " "
        guard needsQuotes else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private static func measuredAccuracy(_ strategy: StrategyResult, stage: Int, benchmark: Int) -> Double? {
        guard stage < strategy.accuracy.count, benchmark < strategy.accuracy[stage].count else { return nil }
        let value = strategy.accuracy[stage][benchmark]
        return value.isFinite ? value : nil
    }
}
