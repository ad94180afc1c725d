import Foundation
import Host
import Kernel
import XCTest

/// Results over several seeds: each strategy's mean (every number averaged), each seed's rows kept, and the
/// 95% intervals of the summary metrics; drawn in the table, the report and the CSV.
final class SeedAggregateTests: XCTestCase {
    /// The fixture's results with every accuracy moved by `shift` points (a seed that learned more or less).
    func seedResults(shift: Double) -> StudyResults {
        var r = StudyResultsFixture.results(strategies: ["llm", "sa-proj"])
        for i in r.strategies.indices {
            r.strategies[i].accuracy = r.strategies[i].accuracy.enumerated().map { k, row in
                row.map { $0 + (k == 0 ? 0 : shift) }
            }
            r.strategies[i].metrics.learning += shift
            r.strategies[i].metrics.heldOutForgettingFinal += shift
        }
        return r
    }

    func testMeansIntervalsAndPerSeedRows() throws {
        let runs = [(UInt64(0), seedResults(shift: -2)), (1, seedResults(shift: 0)), (2, seedResults(shift: 2))]
        let combined = try SeedAggregate.combine(runs.map { (seed: $0.0, results: $0.1) })
        let middle = runs[1].1
        XCTAssertEqual(combined.settings.seeds, [0, 1, 2])
        XCTAssertEqual(combined.seedRuns?.map(\.seed), [0, 1, 2])
        XCTAssertEqual(combined.seedRuns?[2].strategies, runs[2].1.strategies)
        for (mean, expected) in zip(combined.strategies, middle.strategies) {
            XCTAssertEqual(mean.name, expected.name)
            XCTAssertEqual(mean.trainableParameters, expected.trainableParameters)
            for (a, b) in zip(mean.accuracy.joined(), expected.accuracy.joined()) {
                XCTAssertEqual(a, b, accuracy: 1e-9)
            }
            XCTAssertEqual(mean.metrics.learning, expected.metrics.learning, accuracy: 1e-9)
        }
        // -2, 0, +2 around the middle: s = 2, t(2) = 4.303: 4.303 · 2 / √3 = 4.968676.
        let llm = try XCTUnwrap(combined.intervals?.first { $0.name == "llm" })
        XCTAssertEqual(llm.completeSeeds, 3)
        XCTAssertEqual(llm.learning!.mean, middle.strategies[0].metrics.learning, accuracy: 1e-9)
        XCTAssertEqual(llm.learning!.halfWidth!, 4.968676, accuracy: 1e-6)
        XCTAssertEqual(llm.heldOutChange!.halfWidth!, 4.968676, accuracy: 1e-6)
        XCTAssertEqual(llm.targetForgetting!.halfWidth!, 0, accuracy: 1e-9)

        let table = ResultFiles.summaryTable(combined)
        XCTAssertTrue(table.contains("± 5.0"), table)
        XCTAssertTrue(table.contains("over 3 seeds (0, 1, 2)"), table)
        let html = HTMLReport.render(combined)
        XCTAssertTrue(html.contains("95% interval over 3 seeds"), "the table's ± cells")
        XCTAssertTrue(html.contains("Each number is the mean over 3 seeds"))
        let csv = ResultsCSV.render(combined).split(separator: "\n")
        XCTAssertEqual(csv[0], "strategy,stage_index,stage,benchmark,role,accuracy,status,seed")
        XCTAssertEqual(csv.count, 1 + 3 * 2 * 6 * 13, "every seed's rows")
        XCTAssertTrue(csv[1].hasSuffix(",0") && csv.last!.hasSuffix(",2"))
        // Round trip, and one seed's results stay as they were (no seed fields).
        XCTAssertEqual(
            try JSONDecoder().decode(StudyResults.self, from: ResultFiles.encoder.encode(combined)), combined)
        XCTAssertFalse(String(decoding: try ResultFiles.encoder.encode(middle), as: UTF8.self).contains("seedRuns"))
    }

    func testAStrategyThatFailedWithOneSeedShowsThatSeed() throws {
        var failing = seedResults(shift: 1)
        failing.strategies[1] = StudyResultsFixture.failed("sa-proj", index: 1, measuredStages: 2)
        let combined = try SeedAggregate.combine([
            (seed: 4, results: seedResults(shift: 0)), (seed: 9, results: failing),
        ])
        XCTAssertEqual(combined.strategies[1].status, "failed")
        XCTAssertTrue(combined.strategies[1].failure!.hasPrefix("seed 9: "), combined.strategies[1].failure!)
        XCTAssertEqual(combined.intervals?[1].completeSeeds, 1)
        XCTAssertNil(combined.intervals?[1].learning?.halfWidth, "one complete seed: no interval")
        XCTAssertEqual(combined.strategies[0].status, "complete")
    }
}
