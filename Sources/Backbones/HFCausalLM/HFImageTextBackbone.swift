import ChatTemplate
import Foundation
import Kernel

/// A Hugging Face image-text checkpoint as a backbone (`HFLLaVA`, `HFQwen2VL`): a language model (`text`) with
/// images spliced into its input. The members that only forward to the language model, and the prompt encoding
/// the families share (`<image>` placeholders in the turns, the checkpoint's chat template), are written once here.
public protocol HFImageTextBackbone: Backbone, ChatTemplating, ImagePrompting, CheckpointExporting {
    /// The language model: tokenizer, chat template and decoder.
    var text: HFCausalLM { get }
    /// How an image is written in a prompt with the chat template off (`<image>`, or Qwen2-VL's
    /// `<|vision_start|><|image_pad|><|vision_end|>`).
    static var plainImageText: String { get }
}

extension HFImageTextBackbone {
    /// The backbone and family, for messages.
    var label: String { "\(type(of: self)) (\(family))" }

    public var tokenizer: any Tokenizer { text.hfTokenizer }
    public var decoderLayerCount: Int { text.configuration.decoder.layers }
    public var hiddenSize: Int { text.configuration.decoder.hiddenSize }
    public var vocabularySize: Int { text.configuration.decoder.vocabularySize }
    public var acceptsImages: Bool { true }

    public var supportsChatTemplate: Bool { text.supportsChatTemplate }
    public var useChatTemplate: Bool {
        get { text.useChatTemplate }
        set { text.useChatTemplate = newValue }
    }

    /// Renders messages whose `<image>` placeholders become image parts: each message's content is a list of
    /// `{"type": "image"}` parts (one per placeholder) then `{"type": "text", "text": ...}`, as transformers'
    /// processors pass conversations to LLaVA and Qwen2-VL templates.
    public func renderChat(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> String {
        try HFImageSplice.renderChat(text, messages, addGenerationPrompt: addGenerationPrompt, family: label)
    }

    public var endOfAnswerID: Int32 { text.endOfAnswerID }

    public func encodePrompt(_ prompt: String, hasImage: Bool) -> [Int32] {
        encodePrompt(prompt, imageCount: hasImage ? 1 : 0)
    }

    public func encodePrompt(_ prompt: String, imageCount: Int) -> [Int32] {
        encodeConversation(system: nil, history: [], prompt: prompt, imageCount: imageCount)
    }

    public func encodeConversation(system: String?, history: [ChatTurn], prompt: String, hasImage: Bool) -> [Int32] {
        encodeConversation(system: system, history: history, prompt: prompt, imageCount: hasImage ? 1 : 0)
    }

    /// The conversation with `imageCount` images (see `HFImageSplice.encodeConversation`).
    func encodeConversation(system: String?, history: [ChatTurn], prompt: String, imageCount: Int) -> [Int32] {
        HFImageSplice.encodeConversation(
            text, system: system, history: history, prompt: prompt, imageCount: imageCount,
            plainImage: Self.plainImageText, family: label, render: renderChat)
    }

    public func encodeAnswer(_ answer: String) -> [Int32] { text.encodeAnswer(answer) }

    public func unembed(_ hidden: Tensor) -> Tensor {
        text.syncLanguageModel()
        return text.language.unembed(hidden)
    }

    public func save(to directory: URL) throws {
        try exportCheckpoint(to: directory, options: CheckpointExportOptions())
    }
}
