import Foundation

/// One lexical token of a template.
struct Token: Equatable {
    enum Kind: Equatable {
        /// Literal text between tags (whitespace control already applied).
        case text(String)
        /// `{{`, `}}`, `{%`, `%}`.
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        /// An operator or punctuation: `+ - * / // % ** ~ == != < <= > >= = ( ) [ ] { } . , : |`.
        case op(String)
    }

    var kind: Kind
    var location: SourceLocation
}

/// Splits a template into tokens as Jinja2's lexer does with the settings transformers uses
/// (`trim_blocks=True`, `lstrip_blocks=True`, `keep_trailing_newline=False`):
///
/// - newlines (`\r\n`, `\r`) become `\n`, and one trailing newline of the template is dropped;
/// - `{%- `, `{{-`, `{#-` strip all whitespace before the tag, `-%}`, `-}}`, `-#}` all whitespace after it;
/// - trim_blocks: the first newline after a block or comment tag is removed;
/// - lstrip_blocks: spaces and tabs between the start of a line and a block or comment tag are removed
///   (not before `{{`, nor before `{%+`);
/// - `{% raw %}...{% endraw %}` is text.
struct Lexer {
    let source: [Unicode.Scalar]
    let name: String
    private var lineStarts: [Int] = [0]

    init(_ text: String, name: String) {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count)
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\r" {
                scalars.append("\n")
                previousWasCR = true
                continue
            }
            if scalar == "\n" && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = false
            scalars.append(scalar)
        }
        if scalars.last == "\n" { scalars.removeLast() }
        source = scalars
        self.name = name
        for (i, s) in scalars.enumerated() where s == "\n" { lineStarts.append(i + 1) }
    }

    func location(_ index: Int) -> SourceLocation {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= index { low = mid } else { high = mid - 1 }
        }
        return SourceLocation(line: low + 1, column: index - lineStarts[low] + 1)
    }

    func error(_ message: String, at index: Int) -> ChatTemplateError {
        let place = location(min(index, max(source.count, 0)))
        return ChatTemplateError(source: name, line: place.line, column: place.column, message: message)
    }

    private func at(_ i: Int) -> Unicode.Scalar? { i < source.count ? source[i] : nil }

    private func starts(_ text: String, at i: Int) -> Bool {
        var j = i
        for s in text.unicodeScalars {
            guard j < source.count, source[j] == s else { return false }
            j += 1
        }
        return true
    }

    private static func isSpace(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace }

    func tokenize() throws -> [Token] {
        var tokens: [Token] = []
        var position = 0
        var lineStarting = true
        while position < source.count {
            // The next tag opener.
            var open = position
            while open < source.count {
                if source[open] == "{", let next = at(open + 1), next == "{" || next == "%" || next == "#" { break }
                open += 1
            }
            var text = Array(source[position..<open])
            guard open < source.count else {
                if !text.isEmpty {
                    tokens.append(
                        Token(kind: .text(String(String.UnicodeScalarView(text))), location: location(position)))
                }
                break
            }
            let kind = source[open + 1]
            let modifier = at(open + 2)
            var bodyStart = open + 2
            if modifier == "-" {
                while let last = text.last, Self.isSpace(last) { text.removeLast() }
                bodyStart += 1
            } else if modifier == "+" {
                bodyStart += 1
            } else if kind != "{" {
                // lstrip_blocks: only whitespace between the start of the line and the tag.
                let lineStart = (text.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
                if lineStart > 0 || lineStarting, text[lineStart...].allSatisfy({ Self.isSpace($0) }) {
                    text.removeSubrange(lineStart...)
                }
            }
            if !text.isEmpty {
                tokens.append(Token(kind: .text(String(String.UnicodeScalarView(text))), location: location(position)))
            }
            switch kind {
            case "#":
                guard let close = findCommentEnd(from: bodyStart) else {
                    throw error("the comment is not closed (missing '#}')", at: open)
                }
                let stripAfter = close > bodyStart && source[close - 1] == "-"
                position = close + 2
                (position, lineStarting) = skipAfterTag(position, strip: stripAfter, trim: true)
            case "%":
                if let raw = try rawBlock(open: open, bodyStart: bodyStart) {
                    tokens.append(contentsOf: raw.tokens)
                    position = raw.end
                    lineStarting = raw.lineStarting
                    continue
                }
                tokens.append(Token(kind: .blockBegin, location: location(open)))
                let end = try expressionTokens(from: bodyStart, closer: "%", into: &tokens, tagStart: open)
                tokens.append(Token(kind: .blockEnd, location: location(end.index)))
                (position, lineStarting) = skipAfterTag(end.after, strip: end.strip, trim: true)
            default:
                tokens.append(Token(kind: .variableBegin, location: location(open)))
                let end = try expressionTokens(from: bodyStart, closer: "}", into: &tokens, tagStart: open)
                tokens.append(Token(kind: .variableEnd, location: location(end.index)))
                (position, lineStarting) = skipAfterTag(end.after, strip: end.strip, trim: false)
            }
        }
        return tokens
    }

    private func findCommentEnd(from start: Int) -> Int? {
        var i = start
        while i + 1 < source.count {
            if source[i] == "#" && source[i + 1] == "}" { return i }
            i += 1
        }
        return nil
    }

    /// After a tag: `-` strips all whitespace, trim_blocks one newline. Returns the new position and whether
    /// the consumed text ended with a newline (Jinja's `line_starting`, which lstrip_blocks needs).
    private func skipAfterTag(_ start: Int, strip: Bool, trim: Bool) -> (Int, Bool) {
        var i = start
        if strip {
            while i < source.count, Self.isSpace(source[i]) { i += 1 }
        } else if trim, at(i) == "\n" {
            i += 1
        }
        return (i, i > start && source[i - 1] == "\n")
    }

    /// `{% raw %}...{% endraw %}`, if the block tag at `open` is one.
    private func rawBlock(open: Int, bodyStart: Int) throws -> (tokens: [Token], end: Int, lineStarting: Bool)? {
        var i = bodyStart
        while let s = at(i), Self.isSpace(s) { i += 1 }
        guard starts("raw", at: i) else { return nil }
        i += 3
        if let s = at(i), s.properties.isAlphabetic || s == "_" || s.properties.numericType != nil { return nil }
        while let s = at(i), Self.isSpace(s) { i += 1 }
        var stripAfterOpen = false
        if at(i) == "-" {
            stripAfterOpen = true
            i += 1
        }
        guard starts("%}", at: i) else { throw error("expected '%}' after 'raw'", at: i) }
        var (contentStart, _) = skipAfterTag(i + 2, strip: stripAfterOpen, trim: true)
        if stripAfterOpen { contentStart = min(contentStart, source.count) }
        // Find {% endraw %}.
        var j = contentStart
        while j < source.count {
            if source[j] == "{", at(j + 1) == "%" {
                var k = j + 2
                var stripBefore = false
                if at(k) == "-" || at(k) == "+" {
                    stripBefore = at(k) == "-"
                    k += 1
                }
                while let s = at(k), Self.isSpace(s) { k += 1 }
                if starts("endraw", at: k) {
                    k += 6
                    while let s = at(k), Self.isSpace(s) { k += 1 }
                    var stripAfter = false
                    if at(k) == "-" {
                        stripAfter = true
                        k += 1
                    }
                    if starts("%}", at: k) {
                        var content = Array(source[contentStart..<j])
                        if stripBefore {
                            while let last = content.last, Self.isSpace(last) { content.removeLast() }
                        } else {
                            let lineStart = (content.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
                            if lineStart > 0, content[lineStart...].allSatisfy({ Self.isSpace($0) }) {
                                content.removeSubrange(lineStart...)
                            }
                        }
                        let (end, lineStarting) = skipAfterTag(k + 2, strip: stripAfter, trim: true)
                        let tokens =
                            content.isEmpty
                            ? []
                            : [
                                Token(
                                    kind: .text(String(String.UnicodeScalarView(content))),
                                    location: location(contentStart))
                            ]
                        return (tokens, end, lineStarting)
                    }
                }
            }
            j += 1
        }
        throw error("the raw block is not closed (missing '{% endraw %}')", at: open)
    }

    /// Tokens of an expression up to the closing `%}` or `}}` (outside brackets). Returns where the closer starts,
    /// the position after it, and whether it had a `-`.
    private func expressionTokens(from start: Int, closer: Unicode.Scalar, into tokens: inout [Token], tagStart: Int)
        throws -> (index: Int, after: Int, strip: Bool)
    {
        var i = start
        var brackets: [Unicode.Scalar] = []
        while true {
            while let s = at(i), Self.isSpace(s) { i += 1 }
            guard let s = at(i) else {
                throw error(
                    closer == "%"
                        ? "the block tag is not closed (missing '%}')" : "the expression is not closed (missing '}}')",
                    at: tagStart)
            }
            if brackets.isEmpty {
                if s == "-", at(i + 1) == closer, at(i + 2) == "}" { return (i, i + 3, true) }
                if s == closer, at(i + 1) == "}" { return (i, i + 2, false) }
            }
            let here = location(i)
            if s.properties.isAlphabetic || s == "_" {
                var j = i
                while let c = at(j), c.properties.isAlphabetic || c == "_" || ("0"..."9").contains(c) { j += 1 }
                tokens.append(Token(kind: .name(String(String.UnicodeScalarView(source[i..<j]))), location: here))
                i = j
            } else if ("0"..."9").contains(s) {
                i = try number(at: i, into: &tokens)
            } else if s == "'" || s == "\"" {
                i = try string(at: i, into: &tokens)
            } else {
                let three =
                    i + 1 < source.count
                    ? String(String.UnicodeScalarView(source[i..<min(i + 2, source.count)])) : String(s)
                let op: String
                if ["//", "**", "==", "!=", "<=", ">="].contains(three) {
                    op = three
                } else if "+-*/%~<>=()[]{}.,:|".unicodeScalars.contains(s) {
                    op = String(s)
                } else {
                    throw error("unexpected character '\(s)'", at: i)
                }
                switch op {
                case "(", "[", "{": brackets.append(s)
                case ")", "]", "}":
                    let expected: Unicode.Scalar = op == ")" ? "(" : op == "]" ? "[" : "{"
                    guard brackets.last == expected else { throw error("unexpected '\(op)'", at: i) }
                    brackets.removeLast()
                default: break
                }
                tokens.append(Token(kind: .op(op), location: here))
                i += op.unicodeScalars.count
            }
        }
    }

    private func number(at start: Int, into tokens: inout [Token]) throws -> Int {
        var i = start
        var text = ""
        var isFloat = false
        func digits() {
            while let c = at(i),
                ("0"..."9").contains(c) || (c == "_" && at(i + 1).map { ("0"..."9").contains($0) } == true)
            {
                if c != "_" { text.unicodeScalars.append(c) }
                i += 1
            }
        }
        digits()
        if at(i) == ".", let next = at(i + 1), ("0"..."9").contains(next) {
            isFloat = true
            text += "."
            i += 1
            digits()
        }
        if let e = at(i), e == "e" || e == "E" {
            var j = i + 1
            var exponent = "e"
            if let sign = at(j), sign == "+" || sign == "-" {
                exponent.unicodeScalars.append(sign)
                j += 1
            }
            if let d = at(j), ("0"..."9").contains(d) {
                isFloat = true
                text += exponent
                i = j
                digits()
            }
        }
        if isFloat {
            guard let d = Double(text) else { throw error("invalid number '\(text)'", at: start) }
            tokens.append(Token(kind: .float(d), location: location(start)))
        } else {
            guard let n = Int(text) else { throw error("the integer \(text) is too large", at: start) }
            tokens.append(Token(kind: .integer(n), location: location(start)))
        }
        return i
    }

    /// A string literal, with Python's escapes (`\n`, `\t`, `\\`, `\'`, `\"`, `\xNN`, `\uNNNN`, `\UNNNNNNNN`);
    /// other backslashes stay as they are, as in Python.
    private func string(at start: Int, into tokens: inout [Token]) throws -> Int {
        let quote = source[start]
        var i = start + 1
        var out = String.UnicodeScalarView()
        while true {
            guard let c = at(i) else { throw error("the string is not closed", at: start) }
            if c == quote { break }
            if c == "\\", let e = at(i + 1) {
                i += 2
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "\\": out.append("\\")
                case "'": out.append("'")
                case "\"": out.append("\"")
                case "a": out.append("\u{07}")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "v": out.append("\u{0B}")
                case "0": out.append("\u{00}")
                case "\n": break
                case "x", "u", "U":
                    let count = e == "x" ? 2 : e == "u" ? 4 : 8
                    guard i + count <= source.count,
                        let code = UInt32(String(String.UnicodeScalarView(source[i..<i + count])), radix: 16),
                        let scalar = Unicode.Scalar(code)
                    else { throw error("invalid \\\(e) escape in a string", at: i - 2) }
                    out.append(scalar)
                    i += count
                default:
                    out.append("\\")
                    out.append(e)
                }
                continue
            }
            out.append(c)
            i += 1
        }
        tokens.append(Token(kind: .string(String(out)), location: location(start)))
        return i + 1
    }
}
