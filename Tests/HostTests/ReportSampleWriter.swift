import Foundation
import Host
import SkillTuneCLI
import XCTest

/// Writes sample reports from the fixture for looking at in a browser, only when asked:
/// `SKILLTUNE_REPORT_SAMPLES=/tmp/report swift test -c release --filter ReportSampleWriter`.
final class ReportSampleWriter: XCTestCase {
    func testWriteSamplesWhenAsked() throws {
        guard let directory = ProcessInfo.processInfo.environment["SKILLTUNE_REPORT_SAMPLES"] else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, results) in ReportTests.samples() {
            try HTMLReport.render(results).write(toFile: "\(directory)/\(name).html", atomically: true, encoding: .utf8)
            try ResultsCSV.render(results).write(toFile: "\(directory)/\(name).csv", atomically: true, encoding: .utf8)
        }
    }
}
