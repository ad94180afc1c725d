import ChatTemplate
import Foundation
import Host
import Kernel

/// `skilltune chat-template`: renders a conversation with a checkpoint's chat template, as transformers'
/// `tokenizer.apply_chat_template(messages, tools=..., tokenize=False, add_generation_prompt=...)` does.
public enum ChatTemplateCommand {
    public static func command(output: @escaping ModelCommands.Output = { print($0) }) -> Command {
        Command(
            name: "chat-template", summary: "Render a conversation with a checkpoint's chat template.",
            usage: "--model DIR --messages FILE [--add-generation-prompt] [--template NAME] [--json]",
            discussion: """
                The template is the checkpoint's chat_template.jinja (with additional_chat_templates/NAME.jinja),
                else chat_template.json, else tokenizer_config.json's chat_template (a string or a list of
                {"name", "template"}); bos_token, eos_token and the other special tokens come from
                tokenizer_config.json. FILE is a JSON array of messages ({"role", "content"}, content a string or
                a list of parts such as {"type": "text", "text": ...} and {"type": "image"}), or an object with
                "messages" and optional "tools" and "documents"; its other keys reach the template as variables
                (date_string, tools_in_user_message...). The output matches transformers byte for byte.
                Prints the text, or with --json {"text":"..."}.
                """,
            options: [
                .value("model", "DIR", "A checkpoint directory with a chat template."),
                .value(
                    "messages", "FILE",
                    "The conversation: a JSON array of messages, or {\"messages\": [...], \"tools\": [...]}."),
                .flag("add-generation-prompt", "Append the header that starts the assistant's answer."),
                .value(
                    "template", "NAME", "Which named template to use (default: 'default', or 'tool_use' with tools)."),
                .flag("json", "Print {\"text\":\"...\"} instead of the text."),
            ]
        ) { arguments in
            let directory = URL(fileURLWithPath: try arguments.required("model"), isDirectory: true)
            let messagesPath = try arguments.required("messages")
            guard let files = try ChatTemplateFiles.load(directory: directory) else {
                throw UsageError(
                    "\(directory.path) has no chat template (looked for chat_template.jinja, chat_template.json "
                        + "and chat_template in tokenizer_config.json)", command: arguments.command)
            }
            let conversation = try Conversation(file: URL(fileURLWithPath: messagesPath))
            let template = try files.template(named: arguments.string("template"), hasTools: conversation.tools != nil)
            let text = try template.apply(
                messages: conversation.messages, tools: conversation.tools,
                documents: conversation.documents,
                addGenerationPrompt: arguments.flag("add-generation-prompt"),
                specialTokens: files.specialTokens, extra: conversation.extra)
            output(arguments.flag("json") ? "{\"text\":" + JSONText.string(text) + "}" : text)
        }
    }

    /// A messages file: `[messages]` or `{"messages": [...], "tools"?: [...], "documents"?: [...], other keys}`.
    struct Conversation {
        var messages: [Value]
        var tools: [Value]?
        var documents: [Value]?
        var extra: [String: Value] = [:]

        init(file: URL) throws {
            let data: Data
            do { data = try Data(contentsOf: file) } catch {
                throw ChatTemplateError(
                    source: file.path, line: nil, column: nil,
                    message: "cannot read the messages file (\(error.localizedDescription))")
            }
            try self.init(data: data, source: file.path)
        }

        init(data: Data, source: String) throws {
            func fail(_ message: String) -> ChatTemplateError {
                ChatTemplateError(source: source, line: nil, column: nil, message: message)
            }
            switch try ValueJSON.parse(data, source: source) {
            case .list(let items):
                messages = items
            case .dict(let object):
                guard case .list(let items)? = object["messages"] else {
                    throw fail("expected \"messages\": an array of {\"role\", \"content\"} objects")
                }
                messages = items
                for (key, value) in object.pairs {
                    guard case .string(let name) = key, name != "messages" else { continue }
                    if name == "tools" || name == "documents" {
                        guard case .list(let list) = value else {
                            if value.isNone { continue }
                            throw fail("\"\(name)\" must be an array")
                        }
                        if name == "tools" { tools = list } else { documents = list }
                    } else {
                        extra[name] = value
                    }
                }
            default:
                throw fail("expected a JSON array of messages or an object with \"messages\"")
            }
            guard !messages.isEmpty else { throw fail("the conversation has no messages") }
            for (i, message) in messages.enumerated() {
                guard case .dict(let d) = message, case .string? = d["role"] else {
                    throw fail("message \(i): expected an object with a string \"role\"")
                }
            }
        }
    }
}
