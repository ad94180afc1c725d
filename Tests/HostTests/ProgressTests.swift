import Host
import SkillTuneCLI
import XCTest

final class ProgressTests: XCTestCase {
    func testPlainModePrintsFinalLineWithCountAndDetail() {
        var lines: [String] = []
        let p = Progress("train sa-proj/count", total: 4, interactive: false, plainInterval: 1000) { lines.append($0) }
        for i in 1...4 { p.update(i, detail: "loss 0.50") }
        XCTAssertEqual(lines.count, 2, "first update and the final one: \(lines)")
        XCTAssertTrue(lines.last!.hasPrefix("train sa-proj/count  4/4"), lines.last!)
        XCTAssertTrue(lines.last!.hasSuffix("loss 0.50\n"), lines.last!)
        p.update(4)
        XCTAssertEqual(lines.count, 2, "nothing after the end")
    }

    func testInteractiveModeRedrawsOneLineWithABar() {
        var out = ""
        let p = Progress("eval", total: 2, interactive: true) { out += $0 }
        p.update(2)
        XCTAssertTrue(out.hasPrefix("\reval  [########################]  2/2"), out)
        XCTAssertTrue(out.hasSuffix("\n"))
    }

    func testDurations() {
        XCTAssertEqual(Progress.formatDuration(4.4), "4s")
        XCTAssertEqual(Progress.formatDuration(125), "2m05s")
        XCTAssertEqual(Progress.formatDuration(3780), "1h03m")
    }
}
