import Foundation
import Kernel

extension DataItem {
    /// A SkillTune line: `{"prompt", "answer" | "answers", "image"?, "split"?, "options"?, "id"?}`.
    static func skillTune(_ fields: [String: Any]) throws -> DataItem {
        guard let promptValue = fields["prompt"] else { throw Problem(reason: "missing the \"prompt\" field") }
        guard let prompt = promptValue as? String else { throw Problem(reason: "\"prompt\" must be a string") }
        var item: DataItem
        if let answerValue = fields["answer"], !(answerValue is NSNull) {
            let answer = try answerText(answerValue, field: "\"answer\"")
            item = try withSharedFields(
                fields, system: nil, turns: [ChatTurn(user: prompt, assistant: answer)],
                images: [])
        } else {
            guard fields["answers"] != nil else { throw Problem(reason: "missing the \"answer\" field") }
            item = try withSharedFields(fields, system: nil, turns: [ChatTurn(user: prompt, assistant: "")], images: [])
            item.turns[0].assistant = item.answers.removeFirst()
        }
        if let imageValue = fields["image"], !(imageValue is NSNull) {
            guard let path = imageValue as? String, !path.isEmpty else {
                throw Problem(reason: "\"image\" must be a path string")
            }
            item.images = [path]
        }
        try item.placeImages()
        return item
    }

    /// Which field names a conversation item uses.
    enum ConversationStyle {
        /// `"conversations": [{"from": "human" | "gpt" | "system", "value": string}]` (LLaVA, ShareGPT).
        case fromValue
        /// `"messages": [{"role": "user" | "assistant" | "system", "content": string or parts}]` (OpenAI).
        case roleContent

        var listKey: String { self == .fromValue ? "conversations" : "messages" }
        var speakerKey: String { self == .fromValue ? "from" : "role" }
        var textKey: String { self == .fromValue ? "value" : "content" }
    }

    private enum Speaker { case system, user, assistant }

    /// A conversation item. Images come from `"image"` (a path or a list), `"images"` (a list), and, in
    /// messages, from content parts `{"type": "image", "image": path}`; every image part and every `<image>`
    /// in the text is a placeholder. The first message may be the system message; then user and assistant
    /// messages alternate, starting with the user and ending with the assistant.
    static func conversation(_ fields: [String: Any], style: ConversationStyle) throws -> DataItem {
        let key = style.listKey
        guard let listValue = fields[key] else { throw Problem(reason: "missing the \"\(key)\" field") }
        guard let list = listValue as? [Any], !list.isEmpty else {
            throw Problem(reason: "\"\(key)\" must be a non-empty array of messages")
        }
        guard list.count <= maxMessages else {
            throw Problem(reason: "\(list.count) messages; at most \(maxMessages) per item are accepted")
        }
        var images = try imageList(fields, "image") + imageList(fields, "images")
        var system: String?
        var turns: [ChatTurn] = []
        var pendingUser: String?
        for (index, element) in list.enumerated() {
            let where_ = "\"\(key)\"[\(index)]"
            guard let message = element as? [String: Any] else {
                throw Problem(reason: "\(where_) must be an object {\"\(style.speakerKey)\", \"\(style.textKey)\"}")
            }
            guard let speakerName = message[style.speakerKey] as? String else {
                throw Problem(reason: "\(where_): missing the \"\(style.speakerKey)\" string")
            }
            let speaker: Speaker
            switch speakerName.lowercased() {
            case "system": speaker = .system
            case "human", "user": speaker = .user
            case "gpt", "assistant": speaker = .assistant
            default:
                throw Problem(
                    reason: "\(where_): unknown \(style.speakerKey) \"\(speakerName)\" (expected "
                        + (style == .fromValue ? "human, gpt or system)" : "user, assistant or system)"))
            }
            guard let textValue = message[style.textKey] else {
                throw Problem(reason: "\(where_): missing the \"\(style.textKey)\" field")
            }
            let text = try messageText(textValue, at: where_, style: style, images: &images)
            switch speaker {
            case .system:
                guard index == 0 else { throw Problem(reason: "\(where_): a system message is accepted only first") }
                system = text
            case .user:
                guard pendingUser == nil else {
                    throw Problem(reason: "\(where_): two user messages in a row (expected an answer between them)")
                }
                pendingUser = text
            case .assistant:
                guard let user = pendingUser else {
                    throw Problem(reason: "\(where_): an answer with no user message before it")
                }
                guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw Problem(reason: "\(where_): the answer is empty")
                }
                turns.append(ChatTurn(user: user, assistant: text))
                pendingUser = nil
            }
        }
        guard pendingUser == nil else {
            throw Problem(reason: "the conversation ends with a user message (no answer to learn or score)")
        }
        guard !turns.isEmpty else { throw Problem(reason: "the conversation has no user message and answer") }
        var item = try withSharedFields(fields, system: system, turns: turns, images: images)
        try item.placeImages()
        return item
    }

    /// A message's text: a string, or (messages only) a list of parts whose texts are joined by newlines,
    /// with `<image>` for each image part (whose path, if given, is appended to `images`).
    private static func messageText(
        _ value: Any, at where_: String, style: ConversationStyle,
        images: inout [String]
    ) throws -> String {
        if let s = value as? String { return s }
        guard style == .roleContent, let parts = value as? [Any] else {
            throw Problem(
                reason: "\(where_): \"\(style.textKey)\" must be a string"
                    + (style == .roleContent ? " or a list of {\"type\": \"text\" | \"image\"} parts" : ""))
        }
        var texts: [String] = []
        for (k, partValue) in parts.enumerated() {
            guard let part = partValue as? [String: Any], let type = part["type"] as? String else {
                throw Problem(reason: "\(where_) part \(k): expected an object with a \"type\"")
            }
            switch type {
            case "text":
                guard let text = part["text"] as? String else {
                    throw Problem(reason: "\(where_) part \(k): a text part needs a \"text\" string")
                }
                texts.append(text)
            case "image", "image_url":
                texts.append(placeholder)
                if let path = try imagePartPath(part) { images.append(path) }
            default:
                throw Problem(reason: "\(where_) part \(k): unknown type \"\(type)\" (expected text or image)")
            }
        }
        return texts.joined(separator: "\n")
    }

    /// The image reference of an image part (`"image"`, `"path"`, `"url"` or `"image_url": {"url"}`), or nil
    /// for a bare placeholder whose image comes from the item's `"images"` list.
    private static func imagePartPath(_ part: [String: Any]) throws -> String? {
        for key in ["image", "path", "url"] {
            if let s = part[key] as? String, !s.isEmpty { return s }
        }
        if let nested = part["image_url"] {
            if let s = nested as? String, !s.isEmpty { return s }
            if let object = nested as? [String: Any], let s = object["url"] as? String, !s.isEmpty { return s }
            throw Problem(reason: "\"image_url\" must be a path string or {\"url\": path}")
        }
        return nil
    }
}
