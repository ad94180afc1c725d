import Foundation
import Host
import Kernel
import SkillTuneCLI

/// A study on an outside model and outside data: the qwen2-tiny Hugging Face fixture copied into a scratch
/// directory, and small JSON Lines data files written there.
enum OutsideStudyFixture {
    static let qwen2 = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hf/qwen2-tiny")

    /// Copies the checkpoint to `directory/model` and returns it.
    static func checkpoint(in directory: URL) throws -> URL {
        let target = directory.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: target.path) {
            try FileManager.default.copyItem(at: qwen2, to: target)
        }
        return target
    }

    /// Writes `name.jsonl` with `count` question/answer lines made by `line(i)`; returns its path.
    @discardableResult
    static func dataFile(
        _ name: String, in directory: URL, count: Int = 30,
        _ line: (Int) -> (prompt: String, answer: String)
    ) throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var text = ""
        for i in 0..<count {
            let (prompt, answer) = line(i)
            text +=
                String(
                    decoding: try encoder.encode(["prompt": prompt, "answer": answer, "id": "\(name)-\(i)"]),
                    as: UTF8.self) + "\n"
        }
        let url = directory.appendingPathComponent(name + ".jsonl")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// Three data files: `arith` (numeric), `colors`, `facts`.
    static func data(in directory: URL) throws -> (arith: String, colors: String, facts: String) {
        let colors = ["red", "green", "blue", "yellow"]
        return (
            try dataFile("arith", in: directory) { ("What is \($0 % 7) plus \($0 % 5)?", "\($0 % 7 + $0 % 5)") },
            try dataFile("colors", in: directory) { ("Name color number \($0 % 4).", colors[$0 % 4]) },
            try dataFile("facts", in: directory) { ("Fact \($0): the sky is", "blue") }
        )
    }

    /// A tiny study of `model` on the three files.
    static func config(
        model: URL, data: (arith: String, colors: String, facts: String),
        strategies: [String] = ["sa-proj", "lora"]
    ) throws -> StudyConfig {
        var c = try StudyConfig.defaults(preset: "tiny")
        c.model = model.path
        c.targets = [data.arith + "@numeric", data.colors]
        c.heldOut = [data.facts]
        c.strategies = strategies
        c.training.steps = 2
        return c
    }
}
