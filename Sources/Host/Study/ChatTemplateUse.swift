import Kernel

/// Whether prompts are rendered with the model's chat template (`ChatTemplating`), as the model was trained to
/// read them: a study, a tuning run, an evaluation and the probes make the same choice.
///
/// - `auto` (the default): on when the model has a chat template (a checkpoint's `chat_template`, or the ChatML
///   default its tokenizer supports), off for models without one (the built-in tiny-llava);
/// - `on`: required; a model without a template is refused;
/// - `off`: plain prompts (`--no-chat`).
public enum ChatTemplateUse: String, Codable, Sendable, CaseIterable {
    case auto, on, off

    /// Sets `model`'s prompt rendering by this choice and returns whether the chat template is used.
    /// Throws for `on` when the model has no chat template.
    @discardableResult
    public func apply(to model: any Backbone) throws -> Bool {
        let chat = model as? ChatTemplating
        let supported = chat?.supportsChatTemplate ?? false
        let use: Bool
        switch self {
        case .auto: use = supported
        case .off: use = false
        case .on:
            guard supported else {
                throw HostError(
                    "chat template requested (chatTemplate \"on\" / --chat) but this \(model.family) model has none "
                        + "(no chat_template in tokenizer_config.json, chat_template.jinja or chat_template.json, and "
                        + "no <|im_start|>/<|im_end|> tokens for the ChatML default); use \"auto\" or \"off\"")
            }
            use = true
        }
        if let chat, chat.useChatTemplate != use { chat.useChatTemplate = use }
        return use
    }

    /// The choice a command line makes: `--no-chat` is `off`, `--chat` is `on`, neither is `auto`.
    public static func fromFlags(chat: Bool, noChat: Bool) throws -> ChatTemplateUse {
        if chat && noChat { throw HostError("--chat and --no-chat contradict each other; give one of them") }
        return noChat ? .off : chat ? .on : .auto
    }
}
