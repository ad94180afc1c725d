import ChatTemplate
import Foundation
import HFTokenizers
import Kernel

/// What an `HFCausalLM` needs to render chats: its template, the special tokens the template sees, and the
/// token that ends an assistant turn.
struct HFChatSetup {
    var template: ChatTemplate?
    var specialTokens: [String: String]
    var endOfTurnID: Int32?

    /// The ChatML template transformers used as its default before templates lived in checkpoints: what the
    /// Qwen tokenizers without a `chat_template` get.
    static let chatMLDefault = """
        {% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}
        """

    init(template: ChatTemplate?, specialTokens: [String: String], endOfTurnID: Int32?) {
        self.template = template
        self.specialTokens = specialTokens
        self.endOfTurnID = endOfTurnID
    }

    /// Reads the template from the companion files (see `ChatTemplateFiles`); without one, a tokenizer with
    /// `<|im_start|>` and `<|im_end|>` gets the ChatML default. A template that does not parse is an error naming
    /// its file, line and column.
    init(files: [(name: String, data: Data)], tokenizer: HFTokenizer, vocabularySize: Int) throws {
        let found = try ChatTemplateFiles.parse(files: files)
        specialTokens = found?.specialTokens ?? [:]
        if let found {
            template = try found.template()
        } else if tokenizer.tokenID("<|im_start|>") != nil, tokenizer.tokenID("<|im_end|>") != nil {
            template = try ChatTemplate(Self.chatMLDefault, name: "the ChatML default template")
        } else {
            template = nil
        }
        endOfTurnID = template.flatMap { Self.endOfTurn($0, specialTokens, tokenizer, vocabularySize) }
    }

    /// Renders `[user, assistant: sentinel]` without the generation prompt and takes the first token after the
    /// answer (`<|im_end|>\n` -> `<|im_end|>`, Llama 3 `<|eot_id|>`), if it is a special token.
    static func endOfTurn(
        _ template: ChatTemplate, _ special: [String: String], _ tokenizer: HFTokenizer,
        _ vocabularySize: Int
    ) -> Int32? {
        let sentinel = "SkillTuneAnswer"
        let messages = [ChatTemplate.message("user", "Hello"), ChatTemplate.message("assistant", sentinel)]
        guard let text = try? template.apply(messages: messages, addGenerationPrompt: false, specialTokens: special),
            let range = text.range(of: sentinel, options: .backwards)
        else { return nil }
        let suffix = String(text[range.upperBound...])
        guard let first = tokenizer.encode(suffix).first, Int(first) < vocabularySize,
            tokenizer.addedTokens.contains(where: { $0.id == first })
        else { return nil }
        return first
    }
}

extension HFCausalLM {
    /// Whether this model has a chat template (its own, or the ChatML default).
    public var supportsChatTemplate: Bool { template != nil }

    /// Ids that end generation: the end-of-sequence ids, and with the chat template on, its end-of-turn token.
    var stopIDs: Set<Int32> {
        guard useChatTemplate, let endOfTurnID else { return endOfSequenceIDs }
        return endOfSequenceIDs.union([endOfTurnID])
    }

    public func renderChat(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> String {
        guard let template else {
            throw ChatTemplateError(
                source: "HFCausalLM (\(family))", line: nil, column: nil,
                message: "the model has no chat template")
        }
        return try template.apply(
            messages: messages.map { ChatTemplate.message($0.role, $0.content) },
            addGenerationPrompt: addGenerationPrompt, specialTokens: templateSpecialTokens,
            now: chatTemplateDate ?? Date())
    }

    /// `renderChat` with the generation prompt, for encoders that cannot throw: a conversation the template
    /// refuses (say a system message for Gemma 2) stops with the template's message.
    func renderOrStop(_ messages: [ChatMessage]) -> String {
        do {
            return try renderChat(messages, addGenerationPrompt: true)
        } catch {
            preconditionFailure("HFCausalLM (\(family)): the chat template cannot render this conversation: \(error)")
        }
    }
}
