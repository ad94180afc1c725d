import Foundation

/// Parses tokens into statements with Jinja2's grammar and operator precedence (loosest first): conditional
/// `a if b else c`, `or`, `and`, `not`, comparisons and `in`, `+ -`, `~`, `* / // %`, `**`, unary `- +`, then
/// postfix `.attr`, `[item]`, `(call)`, `| filter` and `is test`.
///
/// As in Jinja2, a filter or test name that does not exist is an error when the template is parsed, unless it
/// sits inside an `if` block or a conditional expression (then it fails only if evaluated).
struct Parser {
    private let tokens: [Token]
    private let lexer: Lexer
    private let limits: RenderLimits
    private var position = 0
    private var depth = 0
    /// Inside an if tag or conditional expression, where unknown filters are not checked (Jinja2's soft frame).
    private var softDepth = 0
    /// Unknown filters and tests outside soft frames, reported when the whole template has parsed (a conditional
    /// expression's value is only known to be soft once its `if` is seen).
    private var unknownNames: [(message: String, location: SourceLocation)] = []

    init(tokens: [Token], lexer: Lexer, limits: RenderLimits) {
        self.tokens = tokens
        self.lexer = lexer
        self.limits = limits
    }

    // MARK: Token helpers

    private var current: Token? { position < tokens.count ? tokens[position] : nil }

    private var currentLocation: SourceLocation {
        current?.location ?? tokens.last?.location ?? SourceLocation(line: 1, column: 1)
    }

    private func error(_ message: String, at location: SourceLocation? = nil) -> ChatTemplateError {
        let place = location ?? currentLocation
        return ChatTemplateError(source: lexer.name, line: place.line, column: place.column, message: message)
    }

    private func isOp(_ op: String) -> Bool {
        if case .op(op)? = current?.kind { return true }
        return false
    }

    private func isName(_ name: String) -> Bool {
        if case .name(name)? = current?.kind { return true }
        return false
    }

    private mutating func skipOp(_ op: String) -> Bool {
        guard isOp(op) else { return false }
        position += 1
        return true
    }

    private mutating func skipName(_ name: String) -> Bool {
        guard isName(name) else { return false }
        position += 1
        return true
    }

    private mutating func expectOp(_ op: String) throws {
        guard skipOp(op) else { throw error("expected '\(op)', found \(describe(current))") }
    }

    private mutating func expectName() throws -> String {
        guard case .name(let name)? = current?.kind else { throw error("expected a name, found \(describe(current))") }
        position += 1
        return name
    }

    private mutating func expectBlockEnd() throws {
        guard case .blockEnd? = current?.kind else {
            throw error("expected the end of the block tag '%}', found \(describe(current))")
        }
        position += 1
    }

    private func describe(_ token: Token?) -> String {
        guard let token else { return "the end of the template" }
        switch token.kind {
        case .text: return "text"
        case .variableBegin: return "'{{'"
        case .variableEnd: return "'}}'"
        case .blockBegin: return "'{%'"
        case .blockEnd: return "'%}'"
        case .name(let n): return "'\(n)'"
        case .string(let s): return "the string \(PythonText.quoted(s))"
        case .integer(let i): return "\(i)"
        case .float(let d): return PythonText.float(d)
        case .op(let o): return "'\(o)'"
        }
    }

    private mutating func nest() throws {
        depth += 1
        guard depth <= limits.maxParseDepth else {
            throw error("the template nests deeper than \(limits.maxParseDepth) levels")
        }
    }

    // MARK: Statements

    /// The whole template.
    mutating func parseTemplate() throws -> [Statement] {
        let (body, end) = try parseStatements(until: [])
        if let end { throw error("unexpected '\(end)' (no block is open)") }
        if let first = unknownNames.first { throw error(first.message, at: first.location) }
        return body
    }

    /// Statements up to one of the `until` block tags (left unconsumed after `{%`, the tag name consumed).
    /// Returns the tag name that ended the run, or nil at the end of the template.
    private mutating func parseStatements(until: Set<String>) throws -> ([Statement], String?) {
        try nest()
        defer { depth -= 1 }
        var body: [Statement] = []
        while let token = current {
            switch token.kind {
            case .text(let text):
                body.append(.text(text))
                position += 1
            case .variableBegin:
                position += 1
                let expression = try parseTuple()
                guard case .variableEnd? = current?.kind else {
                    throw error("expected '}}', found \(describe(current))")
                }
                position += 1
                body.append(.output(expression, token.location))
            case .blockBegin:
                position += 1
                guard case .name(let tag)? = current?.kind else { throw error("expected a tag name after '{%'") }
                if until.contains(tag) {
                    position += 1
                    return (body, tag)
                }
                if ["endif", "endfor", "endmacro", "endcall", "endset", "endfilter", "endgeneration", "else", "elif"]
                    .contains(tag)
                {
                    if until.isEmpty { throw error("unexpected '\(tag)' (no block is open)") }
                    throw error(
                        "unexpected '\(tag)', expected \(until.sorted().map { "'\($0)'" }.joined(separator: " or "))")
                }
                position += 1
                body.append(try parseTag(tag, at: token.location))
            default:
                throw error("unexpected \(describe(current))")
            }
        }
        if !until.isEmpty {
            throw error(
                "the template ended inside a block: expected \(until.sorted().map { "'\($0)'" }.joined(separator: " or "))"
            )
        }
        return (body, nil)
    }

    private mutating func parseTag(_ tag: String, at location: SourceLocation) throws -> Statement {
        switch tag {
        case "if": return try parseIf(at: location)
        case "for": return try parseFor(at: location)
        case "set": return try parseSet(at: location)
        case "macro": return try parseMacro(at: location)
        case "call": return try parseCall(at: location)
        case "filter":
            let filters = try parseFilterChain()
            try expectBlockEnd()
            let (body, _) = try parseStatements(until: ["endfilter"])
            try expectBlockEnd()
            return .filterBlock(filters, body, location)
        case "generation":
            try expectBlockEnd()
            let (body, _) = try parseStatements(until: ["endgeneration"])
            try expectBlockEnd()
            return .generation(body)
        case "break", "continue":
            try expectBlockEnd()
            return tag == "break" ? .breakLoop(location) : .continueLoop(location)
        case "include", "import", "from", "extends", "block", "with", "autoescape", "do":
            throw error("the '\(tag)' tag is not supported in chat templates", at: location)
        default:
            throw error("unknown tag '\(tag)'", at: location)
        }
    }

    private mutating func parseIf(at location: SourceLocation) throws -> Statement {
        var branches: [(Expression, [Statement])] = []
        softDepth += 1
        defer { softDepth -= 1 }
        var test = try parseTuple()
        while true {
            try expectBlockEnd()
            let (body, end) = try parseStatements(until: ["elif", "else", "endif"])
            branches.append((test, body))
            if end == "elif" {
                test = try parseTuple()
                continue
            }
            if end == "else" {
                try expectBlockEnd()
                let (elseBody, _) = try parseStatements(until: ["endif"])
                try expectBlockEnd()
                return .ifBlock(branches, elseBody, location)
            }
            try expectBlockEnd()
            return .ifBlock(branches, [], location)
        }
    }

    private mutating func parseAssignTarget(allowAttribute: Bool) throws -> AssignTarget {
        let first = try expectName()
        if allowAttribute, skipOp(".") { return .attribute(first, try expectName()) }
        guard isOp(",") else { return .name(first) }
        var names = [first]
        while skipOp(",") {
            if case .name = current?.kind { names.append(try expectName()) } else { break }
        }
        return .tuple(names)
    }

    private mutating func parseFor(at location: SourceLocation) throws -> Statement {
        let hadParen = skipOp("(")
        let target = try parseAssignTarget(allowAttribute: false)
        if hadParen { try expectOp(")") }
        guard skipName("in") else { throw error("expected 'in' in the for tag, found \(describe(current))") }
        let iterable = try parseTuple(withCondition: false)
        var condition: Expression?
        if skipName("if") { condition = try parseExpression() }
        if skipName("recursive") {
            throw error("recursive for loops are not supported in chat templates", at: location)
        }
        try expectBlockEnd()
        let (body, end) = try parseStatements(until: ["endfor", "else"])
        var elseBody: [Statement] = []
        if end == "else" {
            try expectBlockEnd()
            (elseBody, _) = try parseStatements(until: ["endfor"])
        }
        try expectBlockEnd()
        return .forLoop(
            target: target, iterable: iterable, condition: condition, body: body, elseBody: elseBody, location)
    }

    private mutating func parseSet(at location: SourceLocation) throws -> Statement {
        let target = try parseAssignTarget(allowAttribute: true)
        if skipOp("=") {
            let value = try parseTuple()
            try expectBlockEnd()
            return .set(target, value, location)
        }
        let filters = isOp("|") ? try parseFilterChain() : []
        try expectBlockEnd()
        let (body, _) = try parseStatements(until: ["endset"])
        try expectBlockEnd()
        return .setBlock(target, body, filters, location)
    }

    private mutating func parseParameters() throws -> MacroParameters {
        var parameters = MacroParameters(names: [], defaults: [:])
        try expectOp("(")
        while !isOp(")") {
            if !parameters.names.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let name = try expectName()
            if skipOp("=") { parameters.defaults[name] = try parseExpression() }
            parameters.names.append(name)
        }
        try expectOp(")")
        return parameters
    }

    private mutating func parseMacro(at location: SourceLocation) throws -> Statement {
        let name = try expectName()
        let parameters = try parseParameters()
        try expectBlockEnd()
        let (body, _) = try parseStatements(until: ["endmacro"])
        if case .name = current?.kind { position += 1 }  // {% endmacro name %}
        try expectBlockEnd()
        return .macro(name, parameters, body, location)
    }

    private mutating func parseCall(at location: SourceLocation) throws -> Statement {
        let parameters = isOp("(") ? try parseParameters() : MacroParameters(names: [], defaults: [:])
        let call = try parseExpression()
        guard case .call = call else { throw error("expected a macro call after 'call'", at: location) }
        try expectBlockEnd()
        let (body, _) = try parseStatements(until: ["endcall"])
        try expectBlockEnd()
        return .callBlock(call, parameters, body, location)
    }

    /// `| name(args) | name ...` for filter blocks and block sets.
    private mutating func parseFilterChain() throws -> [(String, [Expression], [(String, Expression)])] {
        var filters: [(String, [Expression], [(String, Expression)])] = []
        while skipOp("|") || filters.isEmpty {
            let location = currentLocation
            let name = try expectName()
            try checkKnown(name, in: Filters.names, kind: "filter", at: location)
            var args: [Expression] = []
            var kwargs: [(String, Expression)] = []
            if isOp("(") { (args, kwargs) = try parseCallArguments() }
            filters.append((name, args, kwargs))
        }
        return filters
    }

    // MARK: Expressions

    /// An expression, or a tuple of them without parentheses (`{{ a, b }}`, `for x in a, b`).
    private mutating func parseTuple(withCondition: Bool = true) throws -> Expression {
        let first = withCondition ? try parseExpression() : try parseOr()
        guard isOp(",") else { return first }
        var items = [first]
        while skipOp(",") {
            if case .blockEnd? = current?.kind { break }
            if case .variableEnd? = current?.kind { break }
            items.append(withCondition ? try parseExpression() : try parseOr())
        }
        return .tuple(items)
    }

    mutating func parseExpression() throws -> Expression {
        try nest()
        defer { depth -= 1 }
        let mark = unknownNames.count
        let value = try parseOr()
        guard skipName("if") else { return value }
        unknownNames.removeSubrange(mark...)
        softDepth += 1
        defer { softDepth -= 1 }
        let test = try parseOr()
        let otherwise = skipName("else") ? try parseExpression() : nil
        return .conditional(test, value, otherwise)
    }

    private mutating func parseOr() throws -> Expression {
        var left = try parseAnd()
        while skipName("or") { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws -> Expression {
        var left = try parseNot()
        while skipName("and") { left = .and(left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws -> Expression {
        if isName("not") {
            position += 1
            try nest()
            defer { depth -= 1 }
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> Expression {
        let location = currentLocation
        let first = try parseMath1()
        var rest: [(String, Expression)] = []
        while true {
            if case .op(let op)? = current?.kind, ["==", "!=", "<", "<=", ">", ">="].contains(op) {
                position += 1
                rest.append((op, try parseMath1()))
            } else if skipName("in") {
                rest.append(("in", try parseMath1()))
            } else if isName("not"), position + 1 < tokens.count, tokens[position + 1].kind == .name("in") {
                position += 2
                rest.append(("not in", try parseMath1()))
            } else {
                break
            }
        }
        return rest.isEmpty ? first : .compare(first, rest, location)
    }

    private mutating func parseMath1() throws -> Expression {
        var left = try parseConcat()
        while case .op(let op)? = current?.kind, op == "+" || op == "-" {
            let location = currentLocation
            position += 1
            left = .binary(op, left, try parseConcat(), location)
        }
        return left
    }

    private mutating func parseConcat() throws -> Expression {
        var items = [try parseMath2()]
        while skipOp("~") { items.append(try parseMath2()) }
        return items.count == 1 ? items[0] : .concat(items)
    }

    private mutating func parseMath2() throws -> Expression {
        var left = try parsePow()
        while case .op(let op)? = current?.kind, ["*", "/", "//", "%"].contains(op) {
            let location = currentLocation
            position += 1
            left = .binary(op, left, try parsePow(), location)
        }
        return left
    }

    private mutating func parsePow() throws -> Expression {
        var left = try parseUnary(withFilter: true)
        while isOp("**") {
            let location = currentLocation
            position += 1
            left = .binary("**", left, try parseUnary(withFilter: true), location)
        }
        return left
    }

    private mutating func parseUnary(withFilter: Bool) throws -> Expression {
        try nest()
        defer { depth -= 1 }
        var node: Expression
        if skipOp("-") {
            node = .negate(try parseUnary(withFilter: false))
        } else if skipOp("+") {
            node = .plus(try parseUnary(withFilter: false))
        } else {
            node = try parsePostfix(try parsePrimary())
        }
        if withFilter { node = try parseFilterExpression(node) }
        return node
    }

    private mutating func parsePrimary() throws -> Expression {
        guard let token = current else { throw error("expected an expression, found the end of the template") }
        position += 1
        switch token.kind {
        case .name(let name):
            switch name {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(name)
            }
        case .string(var text):
            while case .string(let more)? = current?.kind {
                text += more
                position += 1
            }
            return .literal(.string(text))
        case .integer(let i): return .literal(.int(i))
        case .float(let d): return .literal(.double(d))
        case .op("("):
            if skipOp(")") { return .tuple([]) }
            let first = try parseExpression()
            if skipOp(")") { return first }
            var items = [first]
            while skipOp(",") {
                if isOp(")") { break }
                items.append(try parseExpression())
            }
            try expectOp(")")
            return .tuple(items)
        case .op("["):
            var items: [Expression] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return .list(items)
        case .op("{"):
            var pairs: [(Expression, Expression)] = []
            while !isOp("}") {
                if !pairs.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let key = try parseExpression()
                try expectOp(":")
                pairs.append((key, try parseExpression()))
            }
            try expectOp("}")
            return .dict(pairs)
        default:
            position -= 1
            throw error("unexpected \(describe(token))")
        }
    }

    private mutating func parsePostfix(_ start: Expression) throws -> Expression {
        var node = start
        while true {
            if isOp(".") {
                position += 1
                switch current?.kind {
                case .name(let name)?:
                    position += 1
                    node = .attribute(node, name)
                case .integer(let i)?:
                    position += 1
                    node = .item(node, .literal(.int(i)))
                default:
                    throw error("expected an attribute name after '.', found \(describe(current))")
                }
            } else if isOp("[") {
                position += 1
                node = try parseSubscript(node)
            } else if isOp("(") {
                let location = currentLocation
                let (args, kwargs) = try parseCallArguments()
                node = .call(node, args, kwargs, location)
            } else {
                return node
            }
        }
    }

    private mutating func parseSubscript(_ target: Expression) throws -> Expression {
        var parts: [Expression?] = []
        var current: Expression?
        var isSlice = false
        while !isOp("]") {
            if skipOp(":") {
                isSlice = true
                parts.append(current)
                current = nil
                continue
            }
            guard current == nil else {
                throw error("expected ':' or ']' in a subscript, found \(describe(self.current))")
            }
            current = try parseExpression()
        }
        position += 1  // ]
        parts.append(current)
        guard isSlice else {
            guard let index = parts[0] else { throw error("empty subscript '[]'") }
            return .item(target, index)
        }
        guard parts.count <= 3 else { throw error("a slice has at most three parts") }
        while parts.count < 3 { parts.append(nil) }
        return .slice(target, parts[0], parts[1], parts[2])
    }

    private mutating func parseCallArguments() throws -> ([Expression], [(String, Expression)]) {
        try expectOp("(")
        var args: [Expression] = []
        var kwargs: [(String, Expression)] = []
        while !isOp(")") {
            if !(args.isEmpty && kwargs.isEmpty) { try expectOp(",") }
            if isOp(")") { break }
            if case .name(let name)? = current?.kind, position + 1 < tokens.count, tokens[position + 1].kind == .op("=")
            {
                position += 2
                kwargs.append((name, try parseExpression()))
            } else {
                guard kwargs.isEmpty else { throw error("a positional argument follows a keyword argument") }
                args.append(try parseExpression())
            }
        }
        try expectOp(")")
        return (args, kwargs)
    }

    private mutating func checkKnown(_ name: String, in known: Set<String>, kind: String, at location: SourceLocation)
        throws
    {
        if softDepth == 0 && !known.contains(name) { unknownNames.append(("No \(kind) named '\(name)'.", location)) }
    }

    private mutating func parseFilterExpression(_ start: Expression) throws -> Expression {
        var node = start
        while true {
            if isOp("|") {
                position += 1
                let location = currentLocation
                let name = try expectName()
                try checkKnown(name, in: Filters.names, kind: "filter", at: location)
                var args: [Expression] = []
                var kwargs: [(String, Expression)] = []
                if isOp("(") { (args, kwargs) = try parseCallArguments() }
                node = .filter(node, name, args, kwargs, location)
            } else if isName("is") {
                position += 1
                let location = currentLocation
                let negated = skipName("not")
                var name = try expectName()
                if name == "none" || name == "true" || name == "false" { name = name.lowercased() }
                try checkKnown(name, in: TestFunctions.names, kind: "test", at: location)
                var args: [Expression] = []
                var kwargs: [(String, Expression)] = []
                if isOp("(") {
                    (args, kwargs) = try parseCallArguments()
                } else if let token = current, startsArgument(token) {
                    args = [try parsePostfix(try parsePrimary())]
                }
                _ = kwargs
                node = .test(node, name, args, negated: negated, location)
            } else if isOp("(") {
                let location = currentLocation
                let (args, kwargs) = try parseCallArguments()
                node = .call(node, args, kwargs, location)
            } else {
                return node
            }
        }
    }

    /// Whether a token can start a test's single unparenthesised argument (`x is divisibleby 3`).
    private func startsArgument(_ token: Token) -> Bool {
        switch token.kind {
        case .name(let n): return !["else", "or", "and", "if", "in", "not", "is"].contains(n)
        case .string, .integer, .float: return true
        case .op(let o): return o == "[" || o == "{"
        default: return false
        }
    }
}
