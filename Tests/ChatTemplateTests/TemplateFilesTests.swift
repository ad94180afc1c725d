import ChatTemplate
import Foundation
import XCTest

/// Finding a checkpoint's templates as transformers does: chat_template.jinja first, then chat_template.json,
/// then tokenizer_config.json (a string or named templates), with special tokens from the configs.
final class TemplateFilesTests: XCTestCase {
    private func directory(_ files: [String: String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("chat-template-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        for (name, text) in files {
            let file = url.appendingPathComponent(name)
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: file)
        }
        return url
    }

    private let user = [ChatTemplate.message("user", "Hi")]

    func testTokenizerConfigStringAndSpecialTokens() throws {
        let config =
            #"{"chat_template": "{{ bos_token }}{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}", "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>", "pad_token": null}"#
        let files = try XCTUnwrap(
            try ChatTemplateFiles.load(directory: try directory(["tokenizer_config.json": config])))
        XCTAssertEqual(files.specialTokens, ["bos_token": "<s>", "eos_token": "</s>"])
        XCTAssertEqual(files.names, ["default"])
        let text = try files.template().apply(
            messages: user, addGenerationPrompt: false, specialTokens: files.specialTokens)
        XCTAssertEqual(text, "<s>Hi</s>")
    }

    func testNamedTemplatesPickDefaultToolUseOrTheNamedOne() throws {
        let config =
            #"{"chat_template": [{"name": "default", "template": "plain"}, {"name": "tool_use", "template": "tools"}, {"name": "rag", "template": "documents"}], "eos_token": "</s>"}"#
        let files = try XCTUnwrap(
            try ChatTemplateFiles.load(directory: try directory(["tokenizer_config.json": config])))
        XCTAssertEqual(files.names, ["default", "rag", "tool_use"])
        XCTAssertEqual(try files.template().render(context: [:]), "plain")
        XCTAssertEqual(try files.template(hasTools: true).render(context: [:]), "tools")
        XCTAssertEqual(try files.template(named: "rag").render(context: [:]), "documents")
        XCTAssertThrowsError(try files.template(named: "chat")) {
            XCTAssertEqual(
                "\($0)".contains("no chat template named 'chat'; the templates are default, rag, tool_use"), true,
                "\($0)")
        }
        let noDefault = #"{"chat_template": [{"name": "a", "template": "A"}, {"name": "b", "template": "B"}]}"#
        let ambiguous = try XCTUnwrap(
            try ChatTemplateFiles.load(directory: try directory(["tokenizer_config.json": noDefault])))
        XCTAssertThrowsError(try ambiguous.template()) {
            XCTAssertTrue("\($0)".contains("choose one of a, b"), "\($0)")
        }
    }

    func testJinjaFilesComeFirstThenProcessorJSON() throws {
        let dir = try directory([
            "chat_template.jinja": "from jinja\n", "additional_chat_templates/short.jinja": "short",
            "chat_template.json": #"{"chat_template": "from processor"}"#,
            "tokenizer_config.json": #"{"chat_template": "from config", "eos_token": "E"}"#,
        ])
        let files = try XCTUnwrap(try ChatTemplateFiles.load(directory: dir))
        XCTAssertEqual(files.names, ["default", "short"])
        XCTAssertEqual(try files.template().render(context: [:]), "from jinja")
        XCTAssertEqual(try files.template(named: "short").render(context: [:]), "short")
        XCTAssertEqual(files.specialTokens["eos_token"], "E")
        try FileManager.default.removeItem(at: dir.appendingPathComponent("chat_template.jinja"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("additional_chat_templates"))
        XCTAssertEqual(
            try XCTUnwrap(try ChatTemplateFiles.load(directory: dir)).template().render(context: [:]), "from processor")
    }

    func testNoTemplateAndMalformedFiles() throws {
        XCTAssertNil(
            try ChatTemplateFiles.load(directory: try directory(["tokenizer_config.json": #"{"eos_token": "</s>"}"#])))
        let number = try directory(["tokenizer_config.json": #"{"chat_template": 3}"#])
        XCTAssertThrowsError(try ChatTemplateFiles.load(directory: number)) {
            XCTAssertTrue(
                "\($0)".contains("tokenizer_config.json: chat_template: expected a string or a list"), "\($0)")
        }
        let broken = try directory(["tokenizer_config.json": #"{"chat_template": "x""#])
        XCTAssertThrowsError(try ChatTemplateFiles.load(directory: broken)) {
            XCTAssertTrue("\($0)".contains("tokenizer_config.json"), "\($0)")
        }
        let badSyntax = try directory(["chat_template.jinja": "line one\n{% for %}"])
        let files = try XCTUnwrap(try ChatTemplateFiles.load(directory: badSyntax))
        XCTAssertThrowsError(try files.template()) {
            XCTAssertTrue("\($0)".contains("chat_template.jinja:2:"), "\($0)")
        }
    }
}
