import ChatTemplate
import Foundation
import XCTest

/// Syntax and render errors name the template, the line and the column; bounds stop hostile templates quickly.
final class TemplateErrorTests: XCTestCase {
    private func parseError(_ source: String, file: StaticString = #filePath, line: UInt = #line) -> ChatTemplateError?
    {
        do {
            _ = try ChatTemplate(source, name: "t.jinja")
            XCTFail("parsed: \(source)", file: file, line: line)
        } catch let error as ChatTemplateError {
            return error
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
        return nil
    }

    private func renderError(
        _ source: String, limits: RenderLimits = .standard, context: [String: Value] = [:],
        file: StaticString = #filePath, line: UInt = #line
    ) -> ChatTemplateError? {
        do {
            let text = try ChatTemplate(source, name: "t.jinja", limits: limits).render(context: context)
            XCTFail("rendered \(text.prefix(80).debugDescription)", file: file, line: line)
        } catch let error as ChatTemplateError {
            return error
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
        return nil
    }

    func testSyntaxErrorsHaveLineAndColumn() throws {
        let error = try XCTUnwrap(parseError("Hello\n{% if x %}\n{{ x + }}\n{% endif %}"))
        XCTAssertEqual(error.source, "t.jinja")
        XCTAssertEqual(error.line, 3)
        XCTAssertEqual(error.column, 8)
        XCTAssertTrue(error.message.contains("unexpected '}}'"), error.message)
        XCTAssertEqual("\(error)", "t.jinja:3:8: " + error.message)

        let unclosed = try XCTUnwrap(parseError("{% for m in messages %}\n{{ m }}"))
        XCTAssertTrue(unclosed.message.contains("'endfor'"), unclosed.message)
        let stray = try XCTUnwrap(parseError("a\n  {% endif %}"))
        XCTAssertEqual(stray.line, 2)
        XCTAssertTrue(stray.message.contains("unexpected 'endif'"), stray.message)
        XCTAssertTrue(try XCTUnwrap(parseError("{{ 'open }}")).message.contains("string is not closed"))
        XCTAssertTrue(try XCTUnwrap(parseError("{# never closed")).message.contains("comment is not closed"))
        XCTAssertTrue(try XCTUnwrap(parseError("{% include 'other.jinja' %}")).message.contains("not supported"))
        XCTAssertTrue(try XCTUnwrap(parseError("{% frobnicate %}")).message.contains("unknown tag 'frobnicate'"))
        XCTAssertTrue(try XCTUnwrap(parseError("{{ [1, 2 }}")).message.contains("unexpected '}'"))
    }

    /// As in Jinja2: an unknown filter is a parse error, unless it is inside an if block or a conditional
    /// expression, where it fails only when evaluated.
    func testUnknownFiltersAndTests() throws {
        let error = try XCTUnwrap(parseError("x\n{{ name | shout }}"))
        XCTAssertEqual(error.message, "No filter named 'shout'.")
        XCTAssertEqual(error.line, 2)
        XCTAssertEqual(error.column, 11)
        XCTAssertEqual(try XCTUnwrap(parseError("{{ x is loud }}")).message, "No test named 'loud'.")
        let soft = try ChatTemplate("{% if false %}{{ x | shout }}{% endif %}ok")
        XCTAssertEqual(try soft.render(context: [:]), "ok")
        let evaluated = try XCTUnwrap(renderError("{% if true %}\n{{ x | shout }}{% endif %}"))
        XCTAssertEqual(evaluated.message, "No filter named 'shout'.")
        XCTAssertEqual(evaluated.line, 2)
    }

    func testRaiseExceptionCarriesTheTemplatesMessage() throws {
        let template = try ChatTemplate(try Fixtures.template("gemma-2-it"), name: "gemma-2-it.jinja")
        do {
            _ = try template.apply(
                messages: [ChatTemplate.message("system", "Be brief."), ChatTemplate.message("user", "Hi")],
                addGenerationPrompt: true, specialTokens: ["bos_token": "<bos>"])
            XCTFail("Gemma 2 has no system role")
        } catch let error as ChatTemplateError {
            XCTAssertTrue(error.isRaisedByTemplate)
            XCTAssertEqual(error.message, "System role not supported")
            XCTAssertEqual(error.line, 1)
            XCTAssertTrue("\(error)".contains("refused the conversation: System role not supported"), "\(error)")
        }
    }

    func testUndefinedValues() throws {
        // Printing an undefined value gives "", reading from it is an error naming it.
        XCTAssertEqual(
            try ChatTemplate("[{{ missing }}][{{ d.nope }}]").render(context: ["d": .dict(OrderedDict())]), "[][]")
        XCTAssertEqual(try XCTUnwrap(renderError("{{ missing.name }}")).message, "'missing' is undefined")
        XCTAssertEqual(
            try XCTUnwrap(renderError("{{ d.a.b }}", context: ["d": .dict(OrderedDict())])).message,
            "'dict object' has no attribute 'a'")
        XCTAssertEqual(try XCTUnwrap(renderError("{{ missing + 1 }}")).message, "'missing' is undefined")
        XCTAssertTrue(try XCTUnwrap(renderError("{{ 'a' + 1 }}")).message.contains("unsupported operand"))
    }

    func testMutatingMethodsAreRefusedAsTransformersSandboxRefusesThem() throws {
        let error = try XCTUnwrap(renderError("{% set xs = [] %}{{ xs.append(1) }}"))
        XCTAssertEqual(error.message, "access to attribute 'append' of 'list' object is unsafe.")
        XCTAssertTrue(try XCTUnwrap(renderError("{% set d = {} %}{{ d.update({'a': 1}) }}")).message.contains("unsafe"))
    }

    // MARK: Hostile templates

    private func assertFast(_ seconds: Double = 10, _ body: () throws -> Void) rethrows {
        let start = Date()
        try body()
        XCTAssertLessThan(Date().timeIntervalSince(start), seconds)
    }

    func testEndlessRecursionStops() throws {
        try assertFast {
            let error = try XCTUnwrap(renderError("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"))
            XCTAssertTrue(error.message.contains("maxCallDepth"), error.message)
            let mutual = try XCTUnwrap(
                renderError(
                    "{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}"))
            XCTAssertTrue(mutual.message.contains("nested deeper"), mutual.message)
        }
    }

    func testHugeOutputStops() throws {
        let limits = RenderLimits(maxOutputLength: 100_000)
        try assertFast {
            let loops = try XCTUnwrap(
                renderError(
                    "{% for i in range(100000) %}{% for j in range(100000) %}xxxxxxxxxx{% endfor %}{% endfor %}",
                    limits: limits))
            XCTAssertTrue(loops.message.contains("maxOutputLength"), loops.message)
            let doubling = try XCTUnwrap(
                renderError(
                    "{% set ns = namespace(s='ab') %}{% for i in range(200) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                    limits: limits))
            XCTAssertTrue(doubling.message.contains("maxOutputLength"), doubling.message)
            let repeated = try XCTUnwrap(renderError("{{ 'a' * 1000000000000 }}", limits: limits))
            XCTAssertTrue(repeated.message.contains("maxOutputLength"), repeated.message)
            let range = try XCTUnwrap(renderError("{% for i in range(1000000000) %}{% endfor %}"))
            XCTAssertTrue(range.message.contains("Range too big"), range.message)
        }
    }

    func testEndlessLoopsStop() throws {
        let limits = RenderLimits(maxLoopIterations: 50_000)
        try assertFast {
            let nested = try XCTUnwrap(
                renderError(
                    "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}{% endfor %}{% endfor %}{% endfor %}",
                    limits: limits))
            XCTAssertTrue(nested.message.contains("maxLoopIterations"), nested.message)
            // Work without output or loops (membership tests on a big list) is bounded by maxSteps.
            let busy = try XCTUnwrap(
                renderError(
                    "{% set xs = range(100000) | list %}{% for i in range(40000) %}{% if -1 in xs %}{% endif %}{% endfor %}",
                    limits: RenderLimits(maxSteps: 1_000_000)))
            XCTAssertTrue(busy.message.contains("maxSteps"), busy.message)
        }
    }

    func testDeepNestingIsRefusedWhenParsing() throws {
        try assertFast {
            let parens = try XCTUnwrap(
                parseError(
                    "{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}"))
            XCTAssertTrue(parens.message.contains("nests deeper"), parens.message)
            let blocks = try XCTUnwrap(
                parseError(
                    String(repeating: "{% if true %}", count: 5000) + String(repeating: "{% endif %}", count: 5000)))
            XCTAssertTrue(blocks.message.contains("nests deeper"), blocks.message)
            let nots = try XCTUnwrap(parseError("{{ " + String(repeating: "not ", count: 5000) + "x }}"))
            XCTAssertTrue(nots.message.contains("nests deeper"), nots.message)
        }
    }
}
