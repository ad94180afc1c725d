import ChatTemplate
import Foundation
import XCTest

/// Fixtures/golden_*.json were rendered by transformers 5.24 (`apply_chat_template`, see make_golden_renders.py).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Fixtures")

    static func json(_ name: String) throws -> Value {
        try ValueJSON.parse(try Data(contentsOf: directory.appendingPathComponent(name)), source: name)
    }

    static func template(_ name: String) throws -> String {
        try String(
            contentsOf: directory.appendingPathComponent("templates").appendingPathComponent(name + ".jinja"),
            encoding: .utf8)
    }

    /// The time make_golden_renders.py pins strftime_now to: 2024-09-05 14:30 local time.
    static let now: Date = {
        var components = DateComponents()
        (components.year, components.month, components.day, components.hour, components.minute) = (2024, 9, 5, 14, 30)
        return Calendar(identifier: .gregorian).date(from: components)!
    }()
}

extension Value {
    subscript(_ key: String) -> Value? {
        if case .dict(let d) = self { return d[key] }
        return nil
    }

    var text: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var items: [Value] {
        if case .list(let items) = self { return items }
        return []
    }
}

final class GoldenRenderTests: XCTestCase {
    /// Every real template, every conversation: our render equals transformers' byte for byte, and a
    /// conversation the template refuses raises the same message.
    func testRealTemplatesRenderLikeTransformers() throws {
        let cases = try Fixtures.json("golden_renders.json").items
        XCTAssertGreaterThan(cases.count, 80)
        var templates: [String: ChatTemplate] = [:]
        var checked = Set<String>()
        for item in cases {
            let name = item["template"]!.text!
            let template = try templates[name] ?? ChatTemplate(try Fixtures.template(name), name: name + ".jinja")
            templates[name] = template
            var special: [String: String] = [:]
            if case .dict(let d)? = item["special_tokens"] {
                for pair in d.pairs { special[pair.key.text!] = pair.value.text! }
            }
            var extra: [String: Value] = [:]
            if case .dict(let d)? = item["kwargs"] { for pair in d.pairs { extra[pair.key.text!] = pair.value } }
            let label =
                "\(name) / \(item["conversation"]!.text!) / generation prompt \(item["add_generation_prompt"]!.truthy)"
            do {
                let text = try template.apply(
                    messages: item["messages"]!.items, tools: item["tools"]?.items,
                    addGenerationPrompt: item["add_generation_prompt"]!.truthy,
                    specialTokens: special, extra: extra, now: Fixtures.now)
                XCTAssertEqual(text, item["text"]?.text, label)
            } catch let error as ChatTemplateError {
                XCTAssertEqual(error.message, item["error"]?.text, "\(label): \(error)")
                XCTAssertTrue(error.isRaisedByTemplate, label)
            }
            checked.insert(name)
        }
        XCTAssertEqual(
            checked,
            [
                "qwen2.5-instruct", "llama-3.1-instruct", "llama-3.2-instruct", "smollm2-instruct",
                "mistral-instruct-v0.3", "phi-3-mini-instruct", "gemma-2-it", "llava-1.5-hf",
                "llava-onevision-qwen2",
            ])
    }

    /// One Jinja feature per snippet (filters, tests, loops, scoping, whitespace control, number printing...),
    /// against transformers' Jinja environment.
    func testSnippetsRenderLikeTransformers() throws {
        let cases = try Fixtures.json("golden_snippets.json").items
        XCTAssertGreaterThan(cases.count, 50)
        for item in cases {
            let name = item["name"]!.text!
            var context: [String: Value] = [:]
            if case .dict(let d)? = item["context"] { for pair in d.pairs { context[pair.key.text!] = pair.value } }
            do {
                let template = try ChatTemplate(item["template"]!.text!, name: name)
                let text = try template.render(context: context, now: Fixtures.now)
                XCTAssertEqual(text, item["text"]?.text, name)
                XCTAssertNil(
                    item["error"],
                    "\(name): transformers raised \(item["error"]!.text!), we rendered \(text.debugDescription)")
            } catch let error as ChatTemplateError {
                guard let expected = item["error"]?.text else {
                    XCTFail("\(name): \(error)")
                    continue
                }
                // Python exceptions (TypeError...) are not template errors: only the fact of failing must match.
                if !expected.contains("Error: ") { XCTAssertEqual(error.message, expected, name) }
            }
        }
    }
}
