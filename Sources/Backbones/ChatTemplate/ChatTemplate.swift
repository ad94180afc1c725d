import Foundation

/// A parsed chat template that renders conversations exactly as transformers' `apply_chat_template` does
/// (Jinja2 with `trim_blocks=True`, `lstrip_blocks=True`, transformers' `tojson`, `raise_exception` and
/// `strftime_now`, the loop controls extension and `{% generation %}` blocks).
///
/// ```swift
/// let template = try ChatTemplate(source, name: "tokenizer_config.json")
/// let text = try template.apply(messages: [ChatTemplate.message("user", "Hi")], addGenerationPrompt: true,
///                               specialTokens: ["eos_token": "<|im_end|>"])
/// ```
public struct ChatTemplate {
    /// The template text.
    public let source: String
    /// Where it came from, for error messages ("tokenizer_config.json", "chat_template.jinja").
    public let name: String
    public let limits: RenderLimits
    let body: [Statement]

    /// Parses `source`; a syntax error names `name`, the line and the column.
    public init(_ source: String, name: String = "chat template", limits: RenderLimits = .standard) throws {
        self.source = source
        self.name = name
        self.limits = limits
        let lexer = Lexer(source, name: name)
        var parser = Parser(tokens: try lexer.tokenize(), lexer: lexer, limits: limits)
        body = try parser.parseTemplate()
    }

    /// Renders with `context` as the template's variables. `now` is the time `strftime_now` formats.
    public func render(context: [String: Value], now: Date = Date()) throws -> String {
        try Renderer(context: context, limits: limits, sourceName: name, now: now).render(body)
    }

    /// What `tokenizer.apply_chat_template(messages, tools=tools, documents=documents, tokenize=False,
    /// add_generation_prompt=..., **extra)` renders: the variables are the tokenizer's special tokens
    /// (`bos_token`, `eos_token`, ...), then `extra` (which wins), `messages` (each with its null-valued keys
    /// dropped), `tools` and `documents` (none when not given) and `add_generation_prompt`.
    public func apply(
        messages: [Value], tools: [Value]? = nil, documents: [Value]? = nil, addGenerationPrompt: Bool,
        specialTokens: [String: String] = [:], extra: [String: Value] = [:], now: Date = Date()
    )
        throws -> String
    {
        guard !messages.isEmpty else {
            throw ChatTemplateError(
                source: name, line: nil, column: nil,
                message: "Cannot apply chat template to an empty conversation. Provide at least one message.")
        }
        var context: [String: Value] = [:]
        for (key, value) in specialTokens { context[key] = .string(value) }
        for (key, value) in extra { context[key] = value }
        context["messages"] = .list(
            try messages.enumerated().map { try Self.normalize($0.element, index: $0.offset, source: name) })
        context["tools"] = tools.map { Value.list($0) } ?? Value.none
        context["documents"] = documents.map { Value.list($0) } ?? Value.none
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        return try render(context: context, now: now)
    }

    /// A message `{"role": role, "content": content}`.
    public static func message(_ role: String, _ content: String) -> Value {
        .dict(OrderedDict([(.string("role"), .string(role)), (.string("content"), .string(content))]))
    }

    /// A multimodal message whose content is a list of parts: `{"type": "image"}` for each image, then
    /// `{"type": "text", "text": text}`, as processors pass them.
    public static func message(_ role: String, text: String, images: Int) -> Value {
        var parts: [Value] = Array(repeating: .dict(OrderedDict([(.string("type"), .string("image"))])), count: images)
        parts.append(.dict(OrderedDict([(.string("type"), .string("text")), (.string("text"), .string(text))])))
        return .dict(OrderedDict([(.string("role"), .string(role)), (.string("content"), .list(parts))]))
    }

    /// transformers drops a message's null-valued keys and copies its reasoning (`reasoning_content`, `thinking`
    /// or `reasoning`) to `thinking` and `reasoning_content`.
    static func normalize(_ message: Value, index: Int, source: String) throws -> Value {
        guard case .dict(let dict) = message else {
            throw ChatTemplateError(
                source: source, line: nil, column: nil,
                message: "message \(index) should be an object with \"role\" and \"content\", not \(message.typeName)")
        }
        var kept = OrderedDict(dict.pairs.filter { !$0.value.isNone }.map { ($0.key, $0.value) })
        if let reasoning = ["reasoning_content", "thinking", "reasoning"].lazy.compactMap({ kept[$0] }).first {
            var aliased = OrderedDict()
            aliased["thinking"] = kept["thinking"] ?? reasoning
            for pair in kept.pairs where !(pair.key.stringValue == "thinking") { aliased[pair.key] = pair.value }
            aliased["reasoning_content"] = reasoning
            kept = aliased
        }
        return .dict(kept)
    }
}
