import Foundation
import Host
import SkillTuneCLI
import XCTest

final class ReportTests: XCTestCase {
    static let studyNames = [
        "full", "llm", "vision", "projector", "sa-proj", "sa-qkv", "mlp", "mlp-gate-up",
        "mlp-down", "lora", "lwf", "wise-ft", "moe",
    ]

    /// The fixture variants the tests render (also written out by `ReportSampleWriter` for a browser).
    static func samples() -> [(String, StudyResults)] {
        var many = StudyResultsFixture.results(strategies: studyNames + ["<b>x&y</b>"])
        many.strategies.append(StudyResultsFixture.failed("broken \"recipe\"", index: 14, measuredStages: 3))
        var single = StudyResultsFixture.results(strategies: ["sa-proj"])
        single.settings.preset = "quick"
        var noProbes = StudyResultsFixture.results(stageCount: 1)
        for i in noProbes.strategies.indices {
            noProbes.strategies[i].countingBias = []
            noProbes.strategies[i].layerShift = []
        }
        // Awkward but possible: long names, a recipe that unlearns and gains held-out accuracy, no layer shift.
        var odd = StudyResultsFixture.results(strategies: [
            "llm", "a-very-long-custom-strategy-name-registered-by-a-user",
            "sa-proj",
        ])
        odd.benchmarks[7].name = "a-held-out-benchmark-with-a-rather-long-name"
        odd.strategies[2].metrics.learning = -3.2
        odd.strategies[2].metrics.heldOutForgettingFinal = 1.4
        for i in odd.strategies[2].layerShift.indices {
            odd.strategies[2].layerShift[i].attention = [0, 0, 0, 0, 0, 0]
            odd.strategies[2].layerShift[i].mlp = [0, 0, 0, 0, 0, 0]
        }
        return [
            ("report", StudyResultsFixture.results()), ("many", many), ("single-strategy", single),
            ("single-stage-no-probes", noProbes), ("odd", odd),
        ]
    }

    // MARK: CSV

    func testCSVHasOneRowPerStrategyStageAndBenchmark() {
        let csv = ResultsCSV.render(StudyResultsFixture.results())
        let lines = csv.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 1 + 3 * 6 * 13 + 1, "header, rows, and the final empty line")
        XCTAssertEqual(lines.last, "")
        XCTAssertEqual(lines[0], "strategy,stage_index,stage,benchmark,role,accuracy,status")
        XCTAssertEqual(lines[1], "llm,0,base,species,target,12.5,complete")
        XCTAssertTrue(lines.contains("llm,1,species,species,target,52.5,complete"))
        XCTAssertTrue(lines.contains("llm,2,count,charts,held-out,31,complete"), "62.5 - 21 x 1.5")
        XCTAssertTrue(lines.contains("sa-proj,5,clock,clock,target,51.25,complete"))
        XCTAssertEqual(lines[1 + 3 * 6 * 13 - 1], "mlp-gate-up,5,clock,hard-mc,held-out,42.27,complete")
    }

    func testCSVQuotesAsRFC4180AndLeavesUnmeasuredCellsEmpty() {
        var results = StudyResultsFixture.results(strategies: ["a,\"b\""])
        results.strategies.append(StudyResultsFixture.failed("late", index: 1, measuredStages: 2))
        let lines = ResultsCSV.render(results).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[1], "\"a,\"\"b\"\"\",0,base,species,target,12.5,complete")
        XCTAssertTrue(lines.contains("late,1,species,species,target,35.5,failed"))
        XCTAssertTrue(lines.contains("late,2,count,count,target,,failed"))
        XCTAssertEqual(lines.filter { $0.hasPrefix("late,") }.count, 6 * 13)
        XCTAssertEqual(ResultsCSV.quoted(" padded"), "\" padded\"")
        XCTAssertEqual(ResultsCSV.quoted("line\nbreak"), "\"line\nbreak\"")
        XCTAssertEqual(ResultsCSV.quoted("plain-name"), "plain-name")
    }

    func testCSVIsDeterministic() {
        XCTAssertEqual(
            ResultsCSV.render(StudyResultsFixture.results()), ResultsCSV.render(StudyResultsFixture.results()))
    }

    // MARK: HTML

    func testHTMLHasTheTableValuesInLearningOrder() {
        let html = HTMLReport.render(StudyResultsFixture.results())
        // llm: gains 40, 45, 30, 25, 60 -> +40.0; held-out -23 at the end, -21 worst.
        // mlp-gate-up: +36.6 / -2.1; sa-proj: +30.6 / -0.6.
        for value in [
            "+40.0", "\u{2212}23.0", "+36.6", "\u{2212}2.1", "+30.6", "\u{2212}0.6", "1.05M", "8.5%",
            "9.88M", "80%", "tiny-llava", "species \u{2192} count \u{2192} pathology \u{2192} text \u{2192} clock",
            "5e-4", "12 min 34 s",
        ] {
            XCTAssertTrue(html.contains(value), "missing \(value)")
        }
        let table = html.components(separatedBy: "<tbody>")[1].components(separatedBy: "</tbody>")[0]
        let order = ["llm", "mlp-gate-up", "sa-proj"].map { table.range(of: "<strong>\($0)</strong>")!.lowerBound }
        XCTAssertEqual(order, order.sorted(), "sorted by learning")
        XCTAssertEqual(table.components(separatedBy: "class=\"pareto\"").count - 1, 3, "all three are Pareto optimal")
    }

    func testHTMLHasOneSVGPerChartAndNoScriptsOrNetwork() {
        let html = HTMLReport.render(StudyResultsFixture.results())
        // Scatter, Figure 1, final heatmap, 4 per-stage heatmaps, counting bias, forgetting, bias vs forgetting,
        // counting-prompt bias, 3 layer-shift panels.
        XCTAssertEqual(html.components(separatedBy: "<svg ").count - 1, 14)
        XCTAssertEqual(html.components(separatedBy: "</svg>").count - 1, 14)
        XCTAssertFalse(html.lowercased().contains("<script"))
        let withoutNamespace = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        XCTAssertFalse(withoutNamespace.contains("http"), "nothing is fetched from the network")
        XCTAssertFalse(html.contains("url("))
        XCTAssertFalse(html.contains("@import"))
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
    }

    func testHTMLEscapesUserProvidedNames() {
        let results = StudyResultsFixture.results(strategies: ["llm", "<b>x&y</b>", "it's \"q\""])
        let html = HTMLReport.render(results)
        XCTAssertFalse(html.contains("<b>x&y</b>"))
        XCTAssertFalse(html.contains("<b>x"))
        XCTAssertTrue(html.contains("&lt;b&gt;x&amp;y&lt;/b&gt;"))
        XCTAssertTrue(html.contains("it&#39;s &quot;q&quot;"))
        XCTAssertEqual(Markup.escape("a<b>&\"'\u{1}"), "a&lt;b&gt;&amp;&quot;&#39;\u{FFFD}")
    }

    func testHTMLIsDeterministic() {
        for (_, results) in Self.samples() {
            XCTAssertEqual(HTMLReport.render(results), HTMLReport.render(results))
        }
    }

    func testFailedStrategyIsListedButLeftOutOfFinalCharts() {
        var results = StudyResultsFixture.results()
        results.strategies.append(StudyResultsFixture.failed("broken", index: 3, measuredStages: 3))
        let html = HTMLReport.render(results)
        let table = html.components(separatedBy: "<tbody>")[1].components(separatedBy: "</tbody>")[0]
        XCTAssertTrue(table.contains("<strong>broken</strong>"))
        XCTAssertTrue(table.contains("badge bad\">failed"))
        XCTAssertTrue(table.contains("loss became NaN at step 37 (measured through: count)"))
        XCTAssertFalse(html.contains("<title>broken: learning"), "not in the scatter")
        XCTAssertFalse(html.contains("<title>broken, diagrams"), "not in the heatmap")
        XCTAssertTrue(html.contains("<title>broken after count:"), "its measured stages still draw in Figure 1")
        XCTAssertFalse(html.contains("<title>broken after pathology:"))
        XCTAssertTrue(html.contains("left out of final numbers: broken"))
    }

    func testEdgeCasesRender() {
        let samples = Dictionary(uniqueKeysWithValues: Self.samples())
        let single = HTMLReport.render(samples["single-strategy"]!)
        XCTAssertTrue(single.contains("1 strategy tuned on 5 target skills"))
        XCTAssertEqual(single.components(separatedBy: "class=\"rank\">1<").count - 1, 1)

        let oneStage = HTMLReport.render(samples["single-stage-no-probes"]!)
        XCTAssertTrue(oneStage.contains("No counting-bias probe was recorded"))
        XCTAssertTrue(oneStage.contains("No layer-shift probe was recorded"))
        XCTAssertFalse(oneStage.contains("<details>"), "no per-stage heatmaps with a single stage")
        // scatter, Figure 1, final heatmap, forgetting per stage.
        XCTAssertEqual(oneStage.components(separatedBy: "<svg ").count - 1, 4)

        var allFailed = StudyResultsFixture.results(strategies: [])
        allFailed.strategies = [
            StudyResultsFixture.failed("a", index: 0, measuredStages: 2),
            StudyResultsFixture.failed("b", index: 1, measuredStages: 0),
        ]
        let failed = HTMLReport.render(allFailed)
        XCTAssertTrue(failed.contains("No strategy completed, so there are no final numbers to compare."))
        XCTAssertTrue(failed.contains("(measured through: nothing)"))
        XCTAssertTrue(failed.contains("<title>a after species:"), "a's measured stages are still drawn")
        XCTAssertTrue(HTMLReport.render(StudyResultsFixture.results(strategies: [])).contains("0 strategies tuned"))

        let many = HTMLReport.render(samples["many"]!)
        for name in Self.studyNames { XCTAssertTrue(many.contains("<strong>\(name)</strong>"), name) }
        XCTAssertTrue(many.contains("badge bad\">failed"))
    }

    func testStrategyStylesStayDistinctForManyStrategies() {
        let styles = (0..<40).map { ReportPalette.style(forStrategyAt: $0) }
        let keys = Set(styles.map { "\($0.color) \($0.marker) \($0.dash ?? "solid")" })
        XCTAssertEqual(keys.count, 40)
    }

    // MARK: Helpers

    func testNiceTicksAreRoundNumbersCoveringTheData() {
        let forgetting = NiceTicks(covering: -23.3, 0, targetCount: 5)
        XCTAssertEqual(forgetting.values, [-25, -20, -15, -10, -5, 0])
        let mass = NiceTicks(covering: 0, 0.47, targetCount: 5)
        XCTAssertEqual(mass.values, [0, 0.1, 0.2, 0.3, 0.4, 0.5])
        XCTAssertEqual(mass.label(0.3), "0.3")
        let flat = NiceTicks(covering: 76.4, 76.4)
        XCTAssertLessThan(flat.lower, 76.4)
        XCTAssertGreaterThan(flat.upper, 76.4)
        XCTAssertEqual(NiceTicks(covering: 0, 7, targetCount: 3).step, 2.5)
        XCTAssertEqual(NiceTicks(covering: -3, 2).label(-3, suffix: "%"), "\u{2212}3%")
    }

    func testNumberFormats() {
        XCTAssertEqual(ReportFormat.signed(24.94), "+24.9")
        XCTAssertEqual(ReportFormat.signed(-0.6), "\u{2212}0.6")
        XCTAssertEqual(ReportFormat.signed(-0.04), "0.0")
        XCTAssertEqual(ReportFormat.signed(.nan), "\u{2014}")
        XCTAssertEqual(ReportFormat.count(950), "950")
        XCTAssertEqual(ReportFormat.count(12_345), "12.3k")
        XCTAssertEqual(ReportFormat.count(7_615_616_512), "7.62B")
        XCTAssertEqual(ReportFormat.percent(1, of: 2_000), "0.05%")
        XCTAssertEqual(ReportFormat.setting(5e-6), "5e-6")
        XCTAssertEqual(ReportFormat.setting(0.03), "0.03")
        XCTAssertEqual(ReportFormat.duration(754.2), "12 min 34 s")
        XCTAssertEqual(SVGCanvas.number(-0.001), "0")
        XCTAssertEqual(SVGCanvas.number(12.345), "12.35")
    }
}
