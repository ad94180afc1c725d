import Foundation
import Host
import Kernel
import SkillTuneCLI
import XCTest

/// Study files (`compare --config`): partial files over a preset's defaults, errors that name the field,
/// paths relative to the file, command-line flags over the file, and the study.json a run writes rerunning it.
final class StudyFileTests: ScratchTestCase {
    override class var scratchPrefix: String { "skilltune-studyfile" }

    func parse(_ text: String) throws -> StudyConfig {
        try StudyFile.parse(Data(text.utf8), file: "study.json", directory: URL(fileURLWithPath: "/data/here"))
    }

    func testPartialFileOverThePresetsDefaults() throws {
        let c = try parse(
            #"{"preset": "tiny", "targets": ["count", "a.jsonl@numeric", "/abs/b.jsonl"], "training": {"steps": 5}, "seed": 9, "model": "m"}"#
        )
        var expected = try StudyConfig.defaults(preset: "tiny")
        expected.targets = ["count", "/data/here/a.jsonl@numeric", "/abs/b.jsonl"]
        expected.training.steps = 5
        expected.seed = 9
        expected.model = "/data/here/m"
        XCTAssertEqual(c, expected)
        XCTAssertEqual(try parse("{}"), try StudyConfig.defaults(preset: "small"))
    }

    func testSeedsInAFileAndOnTheCommandLine() throws {
        let c = try parse(#"{"preset": "tiny", "seeds": [3, 4, 5]}"#)
        XCTAssertEqual(c.seed, 3, "the first seed is the seed")
        XCTAssertEqual(c.seedList, [3, 4, 5])
        XCTAssertEqual(c.forSeed(4).seedList, [4])
        XCTAssertEqual(try parse(#"{"preset": "tiny"}"#).seedList, [0])
        XCTAssertTrue(try parse(#"{"seeds": [1, 1]}"#).problems().contains("seeds: a seed is repeated"))
        XCTAssertTrue(
            try parse(#"{"seeds": [1, 2], "seed": 5}"#).problems().contains { $0.contains("first of seeds") })
        for (arguments, message) in [
            (["--seeds", "0,x"], "wants seeds (whole numbers >= 0)"), (["--seeds", "1,1"], "a seed is repeated"),
            (["--seed", "2", "--seeds", "0,1"], "--seed and --seeds disagree"),
        ] {
            XCTAssertThrowsError(
                try compare(["--preset", "tiny", "--out", scratch.appendingPathComponent("x").path] + arguments)
            ) {
                XCTAssertTrue("\($0)".contains(message), "\($0)")
            }
        }
    }

    func testErrorsNameTheField() {
        let cases = [
            (#"{"traning": {}}"#, "study.json: unknown field 'traning'; did you mean 'training'?"),
            (
                #"{"training": {"stepz": 3}}"#,
                "study.json: unknown field 'training.stepz'; did you mean 'training.steps'?"
            ),
            (#"{"training": {"steps": "five"}}"#, "study.json: field 'training.steps': expected a whole number"),
            (#"{"targets": "count"}"#, "study.json: field 'targets': expected a list"),
            (#"{"targets": ["count", 3]}"#, "study.json: field 'targets[1]': expected a string"),
            (#"{"preset": "huge"}"#, "study.json: field 'preset': unknown study preset 'huge'"),
            (#"[1]"#, "study.json: not a JSON object"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try parse(text), text) { error in
                XCTAssertTrue("\(error)".hasPrefix(message), "\(text): \(error)")
            }
        }
    }

    func compare(_ arguments: [String]) throws {
        let command = try XCTUnwrap(SkillTuneCommands.all(SkillTuneRegistries.builtIn()).first { $0.name == "compare" })
        try command.run(
            ParsedArguments(
                command: command.name, arguments: arguments + ["--quiet"], options: command.options,
                maxPositionals: command.maxPositionals))
    }

    func testTheStudyFileARunWritesRerunsItAndFlagsOverrideIt() throws {
        let model = try OutsideStudyFixture.checkpoint(in: scratch)
        let data = try OutsideStudyFixture.data(in: scratch.appendingPathComponent("data"))
        let first = scratch.appendingPathComponent("first")
        try compare([
            "--model", model.path, "--preset", "tiny", "--targets", data.arith + "@numeric", "--held-out", data.facts,
            "--strategies", "sa-proj,lora", "--option", "lora.rank=2", "--steps", "2", "--seed", "4",
            "--out", first.path,
        ])
        let written = try StudyFile.read(first.appendingPathComponent("study.json"))
        XCTAssertEqual(written.model, model.path)
        XCTAssertEqual(written.targets, [data.arith + "@numeric"])
        XCTAssertEqual(written.strategyOptions, ["lora": ["rank": "2"]])
        XCTAssertEqual(written.seed, 4)

        let again = scratch.appendingPathComponent("again")
        try compare(["--config", first.appendingPathComponent("study.json").path, "--out", again.path])
        XCTAssertEqual(
            try Data(contentsOf: again.appendingPathComponent("study.json")),
            try Data(contentsOf: first.appendingPathComponent("study.json")))
        func deterministic(_ dir: URL) throws -> Data {
            var r = try ResultFiles.read(from: dir.appendingPathComponent("results.json"))
            r.timings = Timings(startedAt: "", totalSeconds: 0, pretrainSeconds: 0, strategySeconds: [:])
            return try ResultFiles.encoder.encode(r)
        }
        XCTAssertEqual(try deterministic(again), try deterministic(first))

        let changed = scratch.appendingPathComponent("changed")
        try compare([
            "--config", first.appendingPathComponent("study.json").path, "--steps", "3", "--strategies", "sa-proj",
            "--out", changed.path,
        ])
        let c = try StudyFile.read(changed.appendingPathComponent("study.json"))
        XCTAssertEqual(c.training.steps, 3, "a flag given overrides the file")
        XCTAssertEqual(c.strategies, ["sa-proj"])
        XCTAssertEqual(c.seed, 4, "what no flag says comes from the file")
        XCTAssertEqual(c.targets, written.targets)
    }

    func testAllStrategiesComeFromTheRegistryInRegistrationOrder() {
        let registries = SkillTuneRegistries.builtIn()
        XCTAssertEqual(
            registries.allStrategyNames,
            [
                "full", "llm", "vision", "projector", "sa-proj", "sa-qkv", "mlp",
                "mlp-gate-up", "mlp-down", "lora", "lwf", "wise-ft", "moe",
            ])
    }

    /// `evalData` keys are benchmark names (not checked as fields) and its paths are relative to the file.
    func testEvalDataIsReadWholeWithPathsRelativeToTheFile() throws {
        let directory = URL(fileURLWithPath: "/data/here")
        let config = try StudyFile.parse(
            Data(#"{"evalData": {"colors": "colors-eval.jsonl", "arith": "/abs/a.jsonl"}}"#.utf8), file: "s.json",
            directory: directory)
        XCTAssertEqual(config.evalData, ["colors": "/data/here/colors-eval.jsonl", "arith": "/abs/a.jsonl"])
        XCTAssertEqual(try StudyFile.parse(Data("{}".utf8), file: "s.json", directory: directory).evalData, [:])
    }
}
