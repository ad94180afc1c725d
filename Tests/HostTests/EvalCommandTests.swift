import Foundation
import Host
import Kernel
import SkillTuneCLI
import XCTest

/// `skilltune eval`: the split and description options, and the exact-words scoring of descriptions.
final class EvalCommandTests: XCTestCase {
    let registries = SkillTuneRegistries.builtIn()

    func run(_ arguments: [String]) throws {
        let command = try XCTUnwrap(SkillTuneCommands.all(registries).first { $0.name == "eval" })
        try command.run(
            ParsedArguments(
                command: command.name, arguments: arguments, options: command.options,
                maxPositionals: command.maxPositionals))
    }

    func testDescriptionsAreScoredByTheirWordsInOrder() {
        let example = Example(
            id: "x", prompt: "<image>\nDescribe the square.", answer: "the red square at the top left.", image: nil)
        XCTAssertEqual(Evaluator.sameWords("the red square at the top left.", example), 1)
        XCTAssertEqual(
            Evaluator.sameWords("The red square at the top left .", example), 1, "case and punctuation spacing aside")
        XCTAssertEqual(Evaluator.sameWords("the red square at the top right.", example), 0)
        XCTAssertEqual(Evaluator.sameWords("the red square at the top", example), 0, "a cut-off description is wrong")
        XCTAssertEqual(Evaluator.sameWords("", example), 0)
    }

    func testTrainSplitAndDescriptionsRunAndABadSplitIsAClearError() throws {
        try run([
            "--model", "tiny-llava:tiny", "--benchmarks", "seed,count", "--examples", "2", "--split", "train",
            "--descriptions", "--json",
        ])
        try run(["--model", "tiny-llava:tiny", "--benchmarks", "chart", "--examples", "2", "--split", "eval", "--json"])
        XCTAssertThrowsError(try run(["--model", "tiny-llava:tiny", "--benchmarks", "seed", "--split", "test"])) {
            error in
            XCTAssertTrue("\(error)".contains("--split: expected eval or train, got 'test'"), "\(error)")
        }
    }

    func testDataFilesAndSampleLogs() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "skilltune-eval-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let data = try OutsideStudyFixture.data(in: scratch)
        let logs = scratch.appendingPathComponent("logs")
        try run([
            "--model", OutsideStudyFixture.qwen2.path, "--benchmarks", data.arith + "@numeric," + data.facts,
            "--examples", "3", "--log-samples", logs.path, "--json",
        ])
        let arith = try SampleLog.read(logs.appendingPathComponent("arith.jsonl"))
        XCTAssertEqual(arith.count, 3)
        let model = try registries.loadBackbone(directory: OutsideStudyFixture.qwen2)
        try ChatTemplateUse.auto.apply(to: model)  // as `eval` renders prompts by default
        let benchmark = try registries.benchmark(reference: data.arith + "@numeric", role: .heldOut)
        let examples = try benchmark.examples(.eval, count: 3, seed: 0)
        let outcome = Evaluator.evaluate(model, on: benchmark, examples: examples, maxNewTokens: 12)
        XCTAssertEqual(arith, SampleLog.records(examples, outcome))
        XCTAssertEqual(arith.map(\.reference), examples.map(\.answer))
        XCTAssertEqual(
            try SampleLog.read(logs.appendingPathComponent("facts.jsonl")).map(\.reference), ["blue", "blue", "blue"])
    }
}
