import Foundation
import Host
import Kernel
import XCTest

/// The base model that ships with SkillTune (Sources/Host/Resources/base): the default study finds it under the
/// name its settings give (so a change to the defaults, the data or the pretraining code cannot silently reuse
/// stale weights), and it scores the accuracy row README states on the study's own eval examples.
final class ShippedBaseTests: XCTestCase {
    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("README.md")

    /// README's row of the shipped base: the table after the `<!-- shipped-base-row -->` marker, benchmark names
    /// in its header and accuracies (percent) in its first data row.
    static func readmeRow() throws -> [String: Double] {
        let lines = try String(contentsOf: readme, encoding: .utf8).components(separatedBy: "\n")
        let marker = try XCTUnwrap(lines.firstIndex { $0.contains("<!-- shipped-base-row -->") }, "README's marker")
        func cells(_ line: String) -> [String] {
            line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let header = cells(lines[marker + 1])
        let row = cells(lines[marker + 3])
        XCTAssertEqual(header.count, row.count)
        var out: [String: Double] = [:]
        for (name, value) in zip(header.dropFirst(), row.dropFirst()) { out[name] = Double(value) }
        return out
    }

    func testTheDefaultStudyLoadsTheShippedBaseAndItScoresREADMEsRow() throws {
        let registries = SkillTuneRegistries.builtIn()
        let config = try StudyConfig.defaults()
        let data = try StudyData(config: config, registries: registries)
        var messages: [String] = []
        let (model, directory, seconds) = try Pretrainer.baseModel(
            config: config, data: data, registries: registries, log: { messages.append($0) })
        XCTAssertEqual(seconds, 0)
        XCTAssertNotNil(
            ShippedBase.directory(named: directory.lastPathComponent),
            "no shipped base is called \(directory.lastPathComponent): the defaults changed; run "
                + "`skilltune pretrain --fresh` with a native build and copy the base into Sources/Host/Resources/base "
                + "(messages: \(messages))")
        let expected = try Self.readmeRow()
        XCTAssertEqual(Set(expected.keys), Set(data.columns.map(\.name)))
        for benchmark in data.columns {
            let accuracy = Evaluator.evaluate(
                model, on: benchmark, examples: data.eval[benchmark.name] ?? [], maxNewTokens: config.maxNewTokens
            ).accuracy
            // README's row was measured with the build that made the weights (fused multiply-adds); a build
            // without them rounds differently and may flip a near tie: one example of 100.
            XCTAssertEqual(
                accuracy, try XCTUnwrap(expected[benchmark.name]), accuracy: 1.0,
                "\(benchmark.name) on \(data.eval[benchmark.name]?.count ?? 0) eval examples")
        }
    }
}
