import Foundation
import Host
import Kernel
import SkillTuneCLI
import XCTest

/// `tokenize`, `logits` and `generate` run in-process on the Hugging Face fixtures (Tests/Fixtures/hf), their
/// JSON checked against transformers' reference outputs.
final class ModelCommandsTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("hf")

    struct Reference: Decodable {
        struct Greedy: Decodable {
            var max_new_tokens: Int
            var new_ids: [Int32]
            var text: String
        }
        struct Prompt: Decodable {
            var text: String
            var ids: [Int32]
            var logits: [[Float]]
            var greedy: Greedy
        }
        var prompts: [Prompt]
    }

    struct IDs: Decodable { var ids: [Int32] }
    struct Logits: Decodable {
        var ids: [Int32]
        var shape: [Int]
        var logits: [[Float]]
    }
    struct Generation: Decodable {
        var ids: [Int32]
        var text: String
    }

    func model(_ name: String) -> String { Self.fixtures.appendingPathComponent(name).path }

    func reference(_ name: String) throws -> Reference {
        try JSONDecoder().decode(
            Reference.self,
            from: Data(
                contentsOf: Self.fixtures.appendingPathComponent(name)
                    .appendingPathComponent("reference.json")))
    }

    /// Runs one command on `arguments` and returns what it printed.
    let registries = SkillTuneRegistries.builtIn()
    func tokenizeCommand(_ o: @escaping (String) -> Void) -> Command {
        ModelCommands.tokenize(registries: registries, output: o)
    }
    func logitsCommand(_ o: @escaping (String) -> Void) -> Command {
        ModelCommands.logits(registries: registries, output: o)
    }
    func generateCommand(_ o: @escaping (String) -> Void) -> Command {
        ModelCommands.generate(registries: registries, output: o)
    }

    func run(_ make: (@escaping (String) -> Void) -> Command, _ arguments: [String]) throws -> String {
        try printedOutput(make, arguments)
    }

    func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    func testTokenizePrintsTheReferenceIDs() throws {
        for name in ["qwen2-tiny", "llama-tiny"] {
            for prompt in try reference(name).prompts {
                let out = try run(tokenizeCommand, ["--model", model(name), "--text", prompt.text])
                XCTAssertEqual(try decode(IDs.self, out).ids, prompt.ids, "\(name): \(prompt.text.debugDescription)")
                XCTAssertTrue(out.hasPrefix("{\"ids\":["), out)
            }
        }
    }

    func testLogitsMatchTheReferenceAndRoundTripExactly() throws {
        for name in ["qwen2-tiny", "llama-tiny", "llama-tiny-bf16-sharded"] {
            let prompt = try reference(name).prompts[1]
            let list = prompt.ids.map(String.init).joined(separator: ",")
            let out = try run(logitsCommand, ["--model", model(name), "--token-ids", list])
            XCTAssertTrue(out.hasPrefix("{\"ids\":["), out.prefix(40).description)
            let parsed = try decode(Logits.self, out)
            XCTAssertEqual(parsed.ids, prompt.ids)
            XCTAssertEqual(parsed.shape, [prompt.ids.count, prompt.logits[0].count])
            var worst: Float = 0
            for (ours, theirs) in zip(parsed.logits, prompt.logits) {
                XCTAssertEqual(ours.count, theirs.count)
                for (a, b) in zip(ours, theirs) { worst = max(worst, abs(a - b)) }
            }
            XCTAssertLessThanOrEqual(worst, 1e-4, name)
            // The printed numbers read back to exactly the model's Float32 logits.
            let backbone = try registries.backbone(reference: model(name))
            let logits = Autograd.withNoGrad {
                backbone.forward(
                    Batch(
                        tokens: prompt.ids, targets: prompt.ids, lengths: [prompt.ids.count],
                        batchSize: 1, sequenceLength: prompt.ids.count)
                ).logits
            }
            XCTAssertEqual(parsed.logits.flatMap { $0 }, logits.array, name)
        }
    }

    func testGenerateMatchesTheReferenceContinuations() throws {
        for name in ["qwen2-tiny", "llama-tiny", "llama-tiny-bf16-sharded"] {
            for prompt in try reference(name).prompts {
                let out = try run(
                    generateCommand,
                    [
                        "--model", model(name), "--prompt", prompt.text,
                        "--max-new-tokens", "\(prompt.greedy.max_new_tokens)", "--json",
                    ])
                let parsed = try decode(Generation.self, out)
                XCTAssertEqual(parsed.ids, prompt.greedy.new_ids, "\(name): \(prompt.text.debugDescription)")
                XCTAssertEqual(parsed.text, prompt.greedy.text)
                XCTAssertTrue(out.hasPrefix("{\"ids\":["), out)
                let plain = try run(
                    generateCommand,
                    [
                        "--model", model(name), "--prompt", prompt.text,
                        "--max-new-tokens", "\(prompt.greedy.max_new_tokens)",
                    ])
                XCTAssertEqual(plain, prompt.greedy.text)
            }
        }
    }

    func testChatWrapsThePromptInTheQwenTemplate() throws {
        // The third qwen prompt is the template around "Hi", written out.
        let templated = try reference("qwen2-tiny").prompts[2]
        let out = try run(
            generateCommand,
            [
                "--model", model("qwen2-tiny"), "--prompt", "Hi", "--chat",
                "--max-new-tokens", "10", "--json",
            ])
        XCTAssertEqual(try decode(Generation.self, out).ids, templated.greedy.new_ids)
        XCTAssertThrowsError(try run(generateCommand, ["--model", model("llama-tiny"), "--prompt", "Hi", "--chat"])) {
            XCTAssertTrue("\($0)".contains("no <|im_start|>/<|im_end|> tokens"), "\($0)")
        }
    }

    func testDefaultMaxNewTokensIs32() throws {
        let out = try run(generateCommand, ["--model", model("llama-tiny"), "--prompt", "Hello", "--json"])
        XCTAssertLessThanOrEqual(try decode(Generation.self, out).ids.count, 32)
        XCTAssertEqual(
            ModelCommands.generate(registries: registries).options.first { $0.name == "max-new-tokens" }?.defaultValue,
            "32")
    }

    func testBadArgumentsAreClearErrors() throws {
        let llama = model("llama-tiny")
        func expect(
            _ make: (@escaping (String) -> Void) -> Command, _ arguments: [String], _ message: String,
            line: UInt = #line
        ) {
            XCTAssertThrowsError(try run(make, arguments), line: line) { error in
                XCTAssertTrue("\(error)".contains(message), "'\(message)' not in: \(error)", line: line)
            }
        }
        expect(logitsCommand, ["--token-ids", "1,2"], "missing required option '--model'")
        expect(tokenizeCommand, ["--text", "a"], "missing required option '--model'")
        expect(generateCommand, ["--prompt", "a"], "missing required option '--model'")
        expect(logitsCommand, ["--model", llama, "--token-ids", "1,x"], "'x' is not a token id")
        expect(logitsCommand, ["--model", llama, "--token-ids", "1,-2"], "'-2' is not a token id")
        expect(logitsCommand, ["--model", llama, "--token-ids", ""], "option '--token-ids' is empty")
        expect(
            logitsCommand, ["--model", llama, "--token-ids", "5,602"],
            "token id 602 (item 2 of --token-ids) is out of range: the model has 602 ids (0...601)")
        expect(
            logitsCommand, ["--model", "/no/such/dir", "--token-ids", "1"], "no model '/no/such/dir': not a directory")
        expect(tokenizeCommand, ["--model", Self.fixtures.path, "--text", "a"], "config.json: file not found")
        expect(generateCommand, ["--model", llama, "--prompt", ""], "the prompt encodes to no tokens")
        expect(logitsCommand, ["--model", llama], "missing required option '--token-ids' or '--prompt'")
        expect(logitsCommand, ["--model", llama, "--token-ids", "1", "--prompt", "a"], "not both")
        let image = Self.fixtures.appendingPathComponent("multimodal_images/rgb_37x23.png").path
        expect(
            logitsCommand, ["--model", llama, "--prompt", "a", "--image", image],
            "--image: this model (llama) does not read images")
        expect(
            generateCommand, ["--model", llama, "--prompt", "a", "--max-new-tokens", "x"],
            "option '--max-new-tokens' expects a whole number")
        // Usage errors exit with 2, failures while running with 1.
        let tool = CommandLineTool(
            name: "skilltune", summary: "", commands: ModelCommands.all(registries: registries) { _ in })
        XCTAssertEqual(tool.run(["logits", "--model", llama, "--token-ids", "1,x"]), 2)
        XCTAssertEqual(tool.run(["tokenize", "--model", "/no/such/dir", "--text", "a"]), 1)
        XCTAssertEqual(tool.run(["tokenize", "--model", llama, "--text", "a"]), 0)
    }

    func testJSONTextEscapesStringsAndKeepsFloatsExact() throws {
        let text = "a\"b\\c\nd\u{1}é\u{FEFF}"
        XCTAssertEqual(try JSONDecoder().decode([String].self, from: Data("[\(JSONText.string(text))]".utf8)), [text])
        for value: Float in [0.1, -1.5e-7, 3.4028235e38, 1, -0.0, 1.0000001] {
            XCTAssertEqual(Float(JSONText.number(value)), value)
        }
        XCTAssertEqual(JSONText.number(.nan), "null")
        XCTAssertEqual(JSONText.integers([Int32(1), 2]), "[1,2]")
    }
}
