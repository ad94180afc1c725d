import Foundation
import HFCausalLM
import Kernel
import XCTest

/// HFCausalLM with a checkpoint's chat template: prompts and conversations render as transformers renders them
/// (Tests/ChatTemplateTests/Fixtures/golden_renders.json), answers end with the template's end-of-turn token,
/// and generation stops there.
final class HFChatTemplateTests: XCTestCase {
    static let chatFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ChatTemplateTests").appendingPathComponent("Fixtures")

    /// transformers' render of `conversation` with the Qwen2.5 template.
    private func golden(_ conversation: String, generationPrompt: Bool = true) throws -> String {
        let data = try Data(contentsOf: Self.chatFixtures.appendingPathComponent("golden_renders.json"))
        let cases = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        let match = cases.first {
            $0["template"] as? String == "qwen2.5-instruct" && $0["conversation"] as? String == conversation
                && $0["add_generation_prompt"] as? Bool == generationPrompt
        }
        return try XCTUnwrap(match?["text"] as? String)
    }

    /// The tiny Qwen2 fixture with Qwen2.5-Instruct's real template as chat_template.jinja.
    private func qwenWithTemplate() throws -> HFCausalLM {
        let directory = try HFFixtures.copy("qwen2-tiny", self)
        try FileManager.default.copyItem(
            at: Self.chatFixtures.appendingPathComponent("templates").appendingPathComponent("qwen2.5-instruct.jinja"),
            to: directory.appendingPathComponent("chat_template.jinja"))
        return try HFCausalLM.load(directory: directory)
    }

    func testPromptsAndConversationsRenderLikeTransformers() throws {
        let qwen = try qwenWithTemplate()
        XCTAssertTrue(qwen.supportsChatTemplate)
        XCTAssertFalse(qwen.useChatTemplate)
        XCTAssertEqual(qwen.encodePrompt("What is 2 + 3?", hasImage: false), qwen.tokenizer.encode("What is 2 + 3?"))
        qwen.useChatTemplate = true
        XCTAssertEqual(qwen.encodePrompt("What is 2 + 3?", hasImage: false), qwen.tokenizer.encode(try golden("user")))
        XCTAssertEqual(
            qwen.encodeConversation(
                system: "You are a terse calculator.", history: [], prompt: "What is 2 + 3?",
                hasImage: false),
            qwen.tokenizer.encode(try golden("system_user")))
        XCTAssertEqual(
            qwen.encodeConversation(
                system: "Answer in one word.",
                history: [ChatTurn(user: "Capital of France?", assistant: "Paris.")],
                prompt: "  And of Japan, \"quoted\" — 日本?  ", hasImage: false),
            qwen.tokenizer.encode(try golden("multi_turn")))
        XCTAssertEqual(
            try qwen.renderChat(
                [
                    ChatMessage(role: "user", content: "Name a colour."),
                    ChatMessage(role: "assistant", content: "Teal."),
                ], addGenerationPrompt: false),
            try golden("one_turn", generationPrompt: false))
        // The copy renders the same way.
        let copy = qwen.copyModel()
        XCTAssertTrue(copy.useChatTemplate)
        XCTAssertEqual(copy.encodePrompt("What is 2 + 3?", hasImage: false), qwen.tokenizer.encode(try golden("user")))
    }

    /// The answer of a training example ends with the template's end-of-turn token, so the prompt (the rendered
    /// conversation up to the generation prompt) plus the answer is exactly the conversation the template renders.
    func testAnswersEndWithTheEndOfTurnToken() throws {
        let qwen = try qwenWithTemplate()
        let imEnd = try XCTUnwrap(qwen.hfTokenizer.tokenID("<|im_end|>"))
        XCTAssertEqual(qwen.endOfTurnID, imEnd)
        qwen.useChatTemplate = true
        XCTAssertEqual(qwen.encodeAnswer("Teal."), qwen.tokenizer.encode("Teal.") + [imEnd])
        let prompt = qwen.encodePrompt("Name a colour.", hasImage: false)
        // The one-turn render is prompt + answer + "<|im_end|>\n": the answer tokens are what the loss covers.
        XCTAssertEqual(
            prompt + qwen.encodeAnswer("Teal.") + qwen.tokenizer.encode("\n"),
            qwen.tokenizer.encode(try golden("one_turn", generationPrompt: false)))
        qwen.useChatTemplate = false
        XCTAssertEqual(qwen.encodeAnswer("Teal.").last, qwen.plainEndOfAnswerID)
    }

    /// A template whose end-of-turn token (`<|im_start|>` here) is not an end-of-sequence token: with the template
    /// on, generation stops at it; off, it does not. The model is edited so that it always predicts that token.
    func testGenerationStopsAtTheEndOfTurnToken() throws {
        let directory = try HFFixtures.copy("qwen2-tiny", self)
        try Data(
            "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}<|im_start|>\n{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}"
                .utf8
        )
        .write(to: directory.appendingPathComponent("chat_template.jinja"))
        let model = try HFCausalLM.load(directory: directory)
        let turnEnd = try XCTUnwrap(model.hfTokenizer.tokenID("<|im_start|>"))
        XCTAssertEqual(model.endOfTurnID, turnEnd)
        XCTAssertFalse(model.endOfSequenceIDs.contains(turnEnd))
        // Every position's final hidden state becomes the all-ones vector, and only turnEnd's head row sees it.
        for (name, tensor) in model.namedParameters() {
            let value: Float
            if name.hasSuffix("o_proj.weight") || name.hasSuffix("down_proj.weight") || name.hasSuffix("o_proj.bias") {
                value = 0
            } else if name == "model.embed_tokens.weight" || name == "model.norm.weight" {
                value = 1
            } else if name == "lm_head.weight" {
                value = 0
            } else {
                continue
            }
            for i in 0..<tensor.count { tensor.data[i] = value }
        }
        let head = try XCTUnwrap(model.parameter(named: "lm_head.weight"))
        let width = model.hiddenSize
        for j in 0..<width { head.data[Int(turnEnd) * width + j] = 1 }

        model.setTraining(false)
        model.useChatTemplate = true
        let prompt = model.encodePrompt("Hi", hasImage: false)
        XCTAssertEqual(model.tokenizer.decode(prompt), "user: Hi<|im_start|>\nassistant: ")
        XCTAssertEqual(model.generate([GenerationRequest(tokens: prompt)], maxNewTokens: 5)[0], [turnEnd])
        model.useChatTemplate = false
        XCTAssertEqual(
            model.generate([GenerationRequest(tokens: prompt)], maxNewTokens: 5)[0], Array(repeating: turnEnd, count: 5)
        )
    }

    /// Without a chat_template the Qwen tokenizer gets the ChatML default (the `--chat` contract); a Llama
    /// tokenizer without one has none.
    func testChatMLDefaultAndNoTemplate() throws {
        let qwen = try HFCausalLM.load(directory: HFFixtures.directory("qwen2-tiny"))
        XCTAssertTrue(qwen.supportsChatTemplate)
        XCTAssertEqual(
            try qwen.renderChat([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        let llama = try HFCausalLM.load(directory: HFFixtures.directory("llama-tiny"))
        XCTAssertFalse(llama.supportsChatTemplate)
        XCTAssertThrowsError(
            try llama.renderChat([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true))
    }

    func testATemplateThatDoesNotParseIsALoadError() throws {
        let directory = try HFFixtures.copy("qwen2-tiny", self)
        try Data("ok\n{% if %}".utf8).write(to: directory.appendingPathComponent("chat_template.jinja"))
        XCTAssertThrowsError(try HFCausalLM.load(directory: directory)) {
            XCTAssertTrue("\($0)".contains("chat_template.jinja:2:"), "\($0)")
        }
    }
}
