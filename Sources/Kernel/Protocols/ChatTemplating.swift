/// One message of a chat: a role ("system", "user", "assistant", "tool") and its text.
public struct ChatMessage: Sendable, Equatable, Codable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A backbone that can render prompts with a chat template (a Hugging Face checkpoint's `chat_template`, or a
/// default its tokenizer supports), so commands need not know the concrete model type.
///
/// With `useChatTemplate` on, `encodePrompt` renders `[user message]` with the generation prompt,
/// `encodeConversation` renders the whole conversation, `encodeAnswer` ends answers with the template's
/// end-of-turn token, and generation also stops at that token.
public protocol ChatTemplating: AnyObject {
    /// Whether the model has a chat template to use.
    var supportsChatTemplate: Bool { get }
    /// Whether prompts and answers go through the chat template (off by default).
    var useChatTemplate: Bool { get set }
    /// The text the chat template renders for `messages`; `addGenerationPrompt` appends the header that starts
    /// the assistant's answer. Errors name the template and what went wrong (including a conversation the
    /// template refuses, such as a system message for Gemma).
    func renderChat(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> String
}
