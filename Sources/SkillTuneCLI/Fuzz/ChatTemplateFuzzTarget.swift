import ChatTemplate
import Foundation
import Host
import Kernel

extension FuzzTarget {
    /// Chat templates (lexer, parser, renderer) and chat-template messages files, under tight render limits so
    /// every input finishes quickly; the seeds are real templates (fuzz/corpus/chat-template/).
    static let chatTemplate = FuzzTarget(
        name: "chat-template",
        summary: "Jinja chat templates (ChatTemplate: parse, then render a conversation with tools) and messages files",
        dictionary: [
            "{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", "{{-", "-}}", " for ", " in ", " endfor ", " if ",
            " endif ", " else ", " elif ", " set ", " macro ", " endmacro ", " call ", " endcall ", "caller()",
            "namespace(", "loop.index", "loop.last", "messages", "message['content']", "| tojson", "| trim",
            "| selectattr(", "| length", "raise_exception(", "strftime_now(", " is defined", " not ", "[::-1]",
            "range(", " ~ ", " ** ", " // ", "\"\\n\"", "'", "\"", "(", ")", "[", "]", "{", "}", ",", ":",
            " generation ", " endgeneration ", " break ", " continue ", " recursive ", " raw ", " endraw ",
            ".split(", ".replace(", ".find(", ".rfind(", ".count(", ".partition(", ".ljust(", "| unique", "| indent(",
            "| batch(", "| join(", "| dictsort", " * 100000", "(1, 2)",
        ],
        builtInSeeds: {
            [
                Array(
                    #"{% for m in messages %}{{ '<|' + m['role'] + '|>' + m['content'] | trim }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"#
                        .utf8),
                Array(
                    #"{% set ns = namespace(n=0) %}{% macro f(x) %}{{ x * 2 }}{% endmacro %}{% for t in tools %}{{ t | tojson(indent=2) }}{% set ns.n = ns.n + 1 %}{% endfor %}{{ f(ns.n) }}"#
                        .utf8),
                Array(
                    #"{% set s = 'ab' * 1000 %}{% set xs = range(1000) | list %}{{ s.replace('a', 'xy').split('b') | unique | join('-') | length }}{{ s.find('ba') }}{{ s.rpartition('ab') | length }}{{ xs == xs }}{{ {1: 'a', 1.0: 'b', (1, 2): 'c'} | tojson(indent=2) | indent(2) }}{{ xs | batch(3, 0) | list | length }}{{ 'x'.ljust(5, '-') }}"#
                        .utf8),
                Array(
                    #"{"messages": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Hi"}]}], "tools": []}"#
                        .utf8),
            ]
        },
        mutate: nil,
        run: { bytes in
            let data = Data(bytes)
            if let first = bytes.first(where: { $0 != 0x20 && $0 != 0x0A }),
                first == UInt8(ascii: "[") || first == UInt8(ascii: "{")
            {
                _ = try? ChatTemplateCommand.Conversation(data: data, source: "messages.json")
            }
            let limits = RenderLimits(
                maxOutputLength: 1 << 16, maxLoopIterations: 10_000, maxSteps: 200_000, maxCallDepth: 32,
                maxParseDepth: 64, maxCollectionCount: 10_000)
            let template = try ChatTemplate(String(decoding: bytes, as: UTF8.self), name: "fuzz", limits: limits)
            for addGenerationPrompt in [true, false] {
                let text = try template.apply(
                    messages: ChatTemplateFuzzing.messages, tools: ChatTemplateFuzzing.tools,
                    addGenerationPrompt: addGenerationPrompt,
                    specialTokens: ["bos_token": "<s>", "eos_token": "</s>"],
                    now: Date(timeIntervalSince1970: 1_725_000_000))
                precondition(text.utf8.count <= limits.maxOutputLength, "chat-template: output exceeds the limit")
            }
        })
}

enum ChatTemplateFuzzing {
    static let messages: [Value] = [
        ChatTemplate.message("system", "Be brief."), ChatTemplate.message("user", "What is 2 + 2?"),
        ChatTemplate.message("assistant", " 4 "), ChatTemplate.message("user", text: "And this?", images: 1),
    ]

    static let tools: [Value] = {
        let json =
            #"[{"type": "function", "function": {"name": "add", "description": "Adds.", "parameters": {"type": "object", "properties": {"a": {"type": "number"}}, "required": ["a"]}}}]"#
        if case .list(let items) = try! ValueJSON.parse(Data(json.utf8), source: "tools") { return items }
        return []
    }()
}
