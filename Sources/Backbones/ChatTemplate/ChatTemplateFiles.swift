import Foundation

/// A checkpoint's chat templates and special tokens, read as transformers reads them:
///
/// - `chat_template.jinja` (what transformers 5 writes) is the "default" template, and each
///   `additional_chat_templates/NAME.jinja` the template NAME; these files take priority over the configs;
/// - else `chat_template.json`'s `"chat_template"` (a processor's file, as LLaVA checkpoints ship it);
/// - else `tokenizer_config.json`'s `"chat_template"`: a string, or a list of `{"name", "template"}`.
///
/// The special tokens (`bos_token`, `eos_token`, `unk_token`, `sep_token`, `pad_token`, `cls_token`,
/// `mask_token`) come from `tokenizer_config.json` (a string or an `{"content": ...}` object), then
/// `special_tokens_map.json` for those it lacks.
public struct ChatTemplateFiles {
    /// Template sources by name, in the order read; a single unnamed template is "default".
    public var templates: [(name: String, source: String, file: String)]
    public var specialTokens: [String: String]

    public static let specialTokenNames = [
        "bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
        "mask_token",
    ]

    public init(templates: [(name: String, source: String, file: String)], specialTokens: [String: String]) {
        self.templates = templates
        self.specialTokens = specialTokens
    }

    /// The template names, sorted.
    public var names: [String] { templates.map(\.name).sorted() }

    /// Reads `directory`; nil when it has no chat template. Malformed files are errors naming the file and key.
    public static func load(directory: URL) throws -> ChatTemplateFiles? {
        func read(_ name: String) throws -> Data? {
            let url = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { return nil }
            do { return try Data(contentsOf: url) } catch {
                throw ChatTemplateError(
                    source: url.path, line: nil, column: nil,
                    message: "cannot read the file (\(error.localizedDescription))")
            }
        }
        let files = try [
            "chat_template.jinja", "chat_template.json", "tokenizer_config.json", "special_tokens_map.json",
        ]
        .compactMap { name in try read(name).map { (name: name, data: $0) } }
        var extra: [(name: String, data: Data)] = []
        let extraDirectory = directory.appendingPathComponent("additional_chat_templates")
        if let names = try? FileManager.default.contentsOfDirectory(atPath: extraDirectory.path) {
            for name in names.sorted() where name.hasSuffix(".jinja") {
                if let data = try read("additional_chat_templates/" + name) { extra.append((name, data)) }
            }
        }
        return try parse(files: files, additionalTemplates: extra, directory: directory.path)
    }

    /// The same from file contents (`name` is the file name: chat_template.jinja, chat_template.json,
    /// tokenizer_config.json, special_tokens_map.json), for callers that already hold the bytes.
    public static func parse(
        files: [(name: String, data: Data)], additionalTemplates: [(name: String, data: Data)] = [],
        directory: String = "."
    ) throws -> ChatTemplateFiles? {
        func path(_ name: String) -> String { directory == "." ? name : directory + "/" + name }
        func text(_ data: Data, _ name: String) throws -> String {
            guard let s = String(data: data, encoding: .utf8) else {
                throw ChatTemplateError(
                    source: path(name), line: nil, column: nil, message: "the file is not UTF-8 text")
            }
            return s
        }
        func object(_ name: String) throws -> OrderedDict? {
            guard let data = files.first(where: { $0.name == name })?.data else { return nil }
            guard case .dict(let d) = try ValueJSON.parse(data, source: path(name)) else {
                throw ChatTemplateError(source: path(name), line: nil, column: nil, message: "expected a JSON object")
            }
            return d
        }
        var templates: [(name: String, source: String, file: String)] = []
        if let data = files.first(where: { $0.name == "chat_template.jinja" })?.data {
            templates.append(("default", try text(data, "chat_template.jinja"), path("chat_template.jinja")))
        }
        for (file, data) in additionalTemplates {
            let name = String(file.dropLast(".jinja".count))
            templates.append((name, try text(data, file), path("additional_chat_templates/" + file)))
        }
        if templates.isEmpty, let processor = try object("chat_template.json"), let value = processor["chat_template"] {
            templates = try entries(value, file: path("chat_template.json"))
        }
        let tokenizerConfig = try object("tokenizer_config.json")
        if templates.isEmpty, let value = tokenizerConfig?["chat_template"], !value.isNone {
            templates = try entries(value, file: path("tokenizer_config.json"))
        }
        guard !templates.isEmpty else { return nil }
        var special: [String: String] = [:]
        let specialMap = try object("special_tokens_map.json")
        for source in [tokenizerConfig, specialMap] {
            guard let source else { continue }
            for key in specialTokenNames where special[key] == nil {
                switch source[key] {
                case .string(let s)?: special[key] = s
                case .dict(let d)?: if case .string(let s)? = d["content"] { special[key] = s }
                default: break
                }
            }
        }
        return ChatTemplateFiles(templates: templates, specialTokens: special)
    }

    /// `"chat_template"`: a string, or a list of `{"name": ..., "template": ...}`.
    private static func entries(_ value: Value, file: String) throws -> [(name: String, source: String, file: String)] {
        switch value {
        case .string(let s): return [("default", s, file)]
        case .list(let items):
            return try items.enumerated().map { index, item in
                guard case .dict(let d) = item, case .string(let name)? = d["name"],
                    case .string(let template)? = d["template"]
                else {
                    throw ChatTemplateError(
                        source: file, line: nil, column: nil,
                        message: "chat_template[\(index)]: expected an object with string \"name\" and \"template\"")
                }
                return (name, template, file)
            }
        default:
            throw ChatTemplateError(
                source: file, line: nil, column: nil,
                message: "chat_template: expected a string or a list of {\"name\", \"template\"}, not \(value.typeName)"
            )
        }
    }

    /// The template to use, as transformers' `get_chat_template` picks it: `name` if given; else with tools the
    /// "tool_use" template if there is one; else "default" (or the only template). Errors list the names.
    public func template(named name: String? = nil, hasTools: Bool = false, limits: RenderLimits = .standard) throws
        -> ChatTemplate
    {
        let chosen: (name: String, source: String, file: String)?
        if let name {
            chosen = templates.first { $0.name == name }
            guard chosen != nil else {
                throw ChatTemplateError(
                    source: templates.first?.file ?? "chat template", line: nil, column: nil,
                    message: "no chat template named '\(name)'; the templates are \(names.joined(separator: ", "))")
            }
        } else if hasTools, let toolUse = templates.first(where: { $0.name == "tool_use" }) {
            chosen = toolUse
        } else if templates.count == 1 {
            chosen = templates[0]
        } else {
            chosen = templates.first { $0.name == "default" }
            guard chosen != nil else {
                throw ChatTemplateError(
                    source: templates[0].file, line: nil, column: nil,
                    message: "this model has several chat templates and none is named 'default'; "
                        + "choose one of \(names.joined(separator: ", "))")
            }
        }
        return try ChatTemplate(chosen!.source, name: chosen!.file, limits: limits)
    }
}
