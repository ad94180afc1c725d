import Foundation
import Host
import SkillTuneCLI
import XCTest

/// `skilltune chat-template` renders a messages file with a checkpoint's template, matching transformers
/// (Tests/ChatTemplateTests/Fixtures/golden_renders.json).
final class ChatTemplateCommandTests: XCTestCase {
    static let chatFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ChatTemplateTests").appendingPathComponent("Fixtures")

    private func run(_ arguments: [String]) throws -> String {
        try printedOutput(ChatTemplateCommand.command, arguments)
    }

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "chat-template-command-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func goldenCase(_ template: String, _ conversation: String, generationPrompt: Bool = true) throws
        -> [String: Any]
    {
        let data = try Data(contentsOf: Self.chatFixtures.appendingPathComponent("golden_renders.json"))
        let cases = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        return try XCTUnwrap(
            cases.first {
                $0["template"] as? String == template && $0["conversation"] as? String == conversation
                    && $0["add_generation_prompt"] as? Bool == generationPrompt
            })
    }

    /// A checkpoint directory whose tokenizer_config.json carries `template` and its special tokens.
    private func checkpoint(_ template: String, special: [String: Any]) throws -> URL {
        let directory = try temporaryDirectory()
        let source = try String(
            contentsOf: Self.chatFixtures.appendingPathComponent("templates/\(template).jinja"), encoding: .utf8)
        var config = special
        config["chat_template"] = source
        try JSONSerialization.data(withJSONObject: config).write(
            to: directory.appendingPathComponent("tokenizer_config.json"))
        return directory
    }

    func testRendersLikeTransformersWithToolsAndExtraVariables() throws {
        let golden = try goldenCase("llama-3.1-instruct", "kwargs_tools_in_system")
        let model = try checkpoint(
            "llama-3.1-instruct", special: try XCTUnwrap(golden["special_tokens"] as? [String: Any]))
        // The tools and extra variables go in the messages file, in the order transformers saw them.
        let messages = Self.chatFixtures.appendingPathComponent("messages_llama-3.1_tools.json")
        let out = try run(["--model", model.path, "--messages", messages.path, "--add-generation-prompt", "--json"])
        let text = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: String])["text"]
        XCTAssertEqual(text, golden["text"] as? String)
        XCTAssertTrue(out.hasPrefix("{\"text\":"), out)
    }

    func testPlainArrayWithoutGenerationPrompt() throws {
        let golden = try goldenCase("smollm2-instruct", "multi_turn_no_system", generationPrompt: false)
        let model = try checkpoint(
            "smollm2-instruct", special: try XCTUnwrap(golden["special_tokens"] as? [String: Any]))
        let messages = try temporaryDirectory().appendingPathComponent("chat.json")
        try JSONSerialization.data(withJSONObject: golden["messages"]!).write(to: messages)
        XCTAssertEqual(try run(["--model", model.path, "--messages", messages.path]), golden["text"] as? String)
    }

    func testErrorsNameTheProblem() throws {
        let empty = try temporaryDirectory()
        let messages = empty.appendingPathComponent("chat.json")
        try Data(#"[{"role": "user", "content": "Hi"}]"#.utf8).write(to: messages)
        XCTAssertThrowsError(try run(["--model", empty.path, "--messages", messages.path])) {
            XCTAssertTrue("\($0)".contains("has no chat template"), "\($0)")
        }
        let gemma = try checkpoint("gemma-2-it", special: ["bos_token": "<bos>"])
        try Data(#"[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]"#.utf8).write(
            to: messages)
        XCTAssertThrowsError(try run(["--model", gemma.path, "--messages", messages.path])) {
            XCTAssertTrue("\($0)".contains("System role not supported"), "\($0)")
        }
        try Data(#"{"messages": "Hi"}"#.utf8).write(to: messages)
        XCTAssertThrowsError(try run(["--model", gemma.path, "--messages", messages.path])) {
            XCTAssertTrue("\($0)".contains("chat.json: expected \"messages\""), "\($0)")
        }
    }
}
