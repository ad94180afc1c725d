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

    /// Work on big values (string searches and replaces, comparisons of big lists, `unique`, dicts with many keys)
    /// is linear in their size and charged to maxSteps, so a loop repeating it stops instead of running for
    /// minutes. Each case here took from 40 s to hours before.
    func testWorkOnBigValuesIsLinearAndCharged() throws {
        let big = "{% set s = 'ab' * 50000 %}{% set xs = range(100000) | list %}"
        try assertFast {
            // One pass over a 100k string or list is fast and gives Python's answers.
            let once = try ChatTemplate(
                big + "{{ s.replace('a', 'xyz') | length }} {{ s | replace('b', '') | length }} {{ s.count('ab') }}"
                    + " {{ s.find('ba') }} {{ s.rfind('ab') }} {{ s.split('b') | length }} {{ 'bb' in s }}"
                    + " {{ xs | unique | length }} {{ (xs + xs) | unique | list | length }} {{ xs == xs }}"
                    + " {{ s.replace('', '-', 3)[:8] }} {{ s.partition('ba')[0] }} {{ s.rpartition('ab')[2] }}|"
            ).render(context: [:])
            XCTAssertEqual(once, "200000 50000 50000 1 99998 50001 False 100000 100000 True -a-b-aba a |")
            // The same work in a loop runs into maxSteps.
            let limits = RenderLimits(maxSteps: 1_000_000)
            for work in [
                "s.replace('a', 'b')", "s.find('zz')", "s.count('a')", "s.split('a')", "'zz' in s", "s | length",
                "s | trim", "s < s", "s is lt s", "xs == xs", "xs | unique", "s.startswith('b')", "s.partition('zz')",
            ] {
                let error = try XCTUnwrap(
                    renderError(big + "{% for i in range(100000) %}{% set x = \(work) %}{% endfor %}", limits: limits),
                    work)
                XCTAssertTrue(error.message.contains("maxSteps"), "\(work): \(error.message)")
            }
            // A long, nearly matching needle is found in linear time (a naive search would take ~10^10 steps).
            let needle = try ChatTemplate(
                "{% set h = 'a' * 200000 %}{% set n = 'a' * 100000 ~ 'b' %}{{ h.find(n) }} {{ n in h }}"
                    + " {{ h.split(n) | length }} {{ h.count(n) }}"
            ).render(context: [:])
            XCTAssertEqual(needle, "-1 False 1 0")
            // A dict literal with many keys is built in linear time.
            let keys = (0..<50_000).map { "'k\($0)': \($0)" }.joined(separator: ", ")
            XCTAssertEqual(
                try ChatTemplate("{% set d = {\(keys)} %}{{ d | length }} {{ d['k49999'] }}").render(context: [:]),
                "50000 49999")
        }
    }

    /// Arguments that would multiply a value's size (indent widths, fill characters, batch sizes, separators,
    /// tuple doubling) are refused by the bound they would break, before anything is allocated.
    func testSizeMultipliersAreRefusedBeforeAllocating() throws {
        let limits = RenderLimits(maxOutputLength: 1_000_000, maxCollectionCount: 100_000)
        try assertFast {
            for (source, bound) in [
                ("{{ [1, [2, [3]]] | tojson(indent=1000000000000) }}", "maxOutputLength"),
                (
                    "{{ range(1000) | list | tojson(indent='" + String(repeating: " ", count: 2000) + "') }}",
                    "maxOutputLength"
                ),
                ("{{ 'a\nb' | indent(1000000000000) }}", "maxOutputLength"),
                ("{{ ('\n' * 100000) | indent('" + String(repeating: " ", count: 100) + "') }}", "maxOutputLength"),
                ("{{ [1] | batch(1000000000000, 0) | list }}", "maxCollectionCount"),
                ("{{ ('x' * 100000).join(range(100000) | map('string')) }}", "maxOutputLength"),
                ("{{ range(100000) | map('string') | join('x' * 100000) }}", "maxOutputLength"),
                ("{{ ('x' * 100000).replace('', 'y' * 100000) }}", "maxOutputLength"),
                (
                    "{% set ns = namespace(t=(1,)) %}{% for i in range(100) %}{% set ns.t = ns.t + ns.t %}{% endfor %}",
                    "maxCollectionCount"
                ),
            ] {
                let error = try XCTUnwrap(renderError(source, limits: limits), source)
                XCTAssertTrue(error.message.contains(bound), "\(source.prefix(60)): \(error.message)")
            }
            let fill = try XCTUnwrap(renderError("{{ 'x'.ljust(10, 'ab') }}"))
            XCTAssertEqual(fill.message, "The fill character must be exactly one character long")
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
