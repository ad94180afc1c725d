import Foundation
import Kernel

/// Writes `results.json`, `results.csv` and `report.html`, each atomically (a failed write leaves the
/// previous file intact), and renders the terminal summary table.
public enum ResultFiles {
    /// The encoder every results file uses: sorted keys, so equal results give equal bytes.
    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return e
    }

    /// The result files, in the order they are written.
    public static let fileNames = ["results.json", "results.csv", "report.html"]

    /// Writes the three files. If one cannot be written (a full disk...), the error says which files were
    /// replaced and that the others still hold their previous content.
    public static func write(_ results: StudyResults, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let contents = [
            try encoder.encode(results), Data(ResultsCSV.render(results).utf8), Data(HTMLReport.render(results).utf8),
        ]
        for (i, (name, data)) in zip(fileNames, contents).enumerated() {
            do {
                try AtomicFile.write(data, to: directory.appendingPathComponent(name))
            } catch {
                let kept = fileNames[i...].joined(separator: ", ")
                let written =
                    i == 0 ? "" : " (\(fileNames[..<i].joined(separator: " and ")) already hold the new results)"
                throw HostError(
                    "could not write the results: \(error). The previous \(kept) in \(directory.path) are intact\(written); "
                        + "the finished stages are checkpointed, so rerun with --resume once there is room")
            }
        }
    }

    public static func read(from file: URL) throws -> StudyResults {
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw HostError("\(file.path): cannot read the file")
        }
        do { return try JSONNesting.decode(StudyResults.self, from: data, file: file.path) } catch {
            throw HostError("\(file.path): not a SkillTune results file (\(error))")
        }
    }

    /// The learning / forgetting table for the terminal, one row per strategy in run order.
    public static func summaryTable(_ results: StudyResults) -> String {
        let header = ["strategy", "learning", "held-out Δ", "target forget", "BWT", "trainable", "status"]
        var rows: [[String]] = []
        for s in results.strategies {
            let share = s.totalParameters > 0 ? 100 * Double(s.trainableParameters) / Double(s.totalParameters) : 0
            let complete = s.status == "complete"
            let interval = results.intervals?.first { $0.name == s.name }
            func cell(_ value: Double, _ ci: ConfidenceInterval?) -> String {
                complete ? signed(value) + (ci?.halfWidth.map { String(format: " ± %.1f", $0) } ?? "") : "-"
            }
            rows.append([
                s.name,
                cell(s.metrics.learning, interval?.learning),
                cell(s.metrics.heldOutForgettingFinal, interval?.heldOutChange),
                cell(s.metrics.targetForgetting, interval?.targetForgetting),
                cell(s.metrics.backwardTransfer, interval?.backwardTransfer),
                "\(s.trainableParameters) (\(String(format: "%.1f", share))%)",
                s.status,
            ])
        }
        let widths = header.indices.map { c in ([header[c]] + rows.map { $0[c] }).map(\.count).max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, cell in
                c == 0 || c == cells.count - 1
                    ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: "  ")
        }
        var out = line(header) + "\n" + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for r in rows { out += line(r) + "\n" }
        if let seeds = results.settings.seeds {
            out +=
                "mean ± 95% interval (Student's t) over \(seeds.count) seeds (\(seeds.map(String.init).joined(separator: ", ")))\n"
        }
        out +=
            "learning: mean gain on each target right after training on it; held-out Δ: mean change of the "
            + "\(results.benchmarks.filter { $0.role == "held-out" }.count) held-out benchmarks after the last stage (points)\n"
        return out
    }

    static func signed(_ v: Double) -> String { String(format: "%+.1f", v) }
}
