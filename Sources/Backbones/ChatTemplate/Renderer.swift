import Foundation

/// Runs a parsed template: statements write text to the output, expressions evaluate with Jinja2's semantics.
///
/// Scopes follow Jinja2: each `for` iteration and each macro call gets a fresh scope (a `set` inside a loop
/// body is gone at the next iteration and after the loop), `if` blocks share their enclosing scope, and
/// `namespace()` objects carry values out of loops. Every bound in `RenderLimits` is checked as it is reached.
final class Renderer {
    let limits: RenderLimits
    let sourceName: String
    /// The date `strftime_now` formats (transformers uses the current local time).
    let now: Date
    private var scopes: [[String: Value]]
    private let globals: [String: Value]
    private var output = ""
    private var outputLength = 0
    private var loopIterations = 0
    private var steps = 0
    private var callDepth = 0
    /// Statements and expressions being evaluated inside each other (bounds the native stack).
    private var depth = 0
    /// Most nested evaluations: with the parse depth and call depth bounds, this keeps a hostile template
    /// (deeply nested blocks inside recursive macros) well inside a thread's stack.
    static let maxEvaluationDepth = 400

    init(context: [String: Value], limits: RenderLimits, sourceName: String, now: Date) {
        self.limits = limits
        self.sourceName = sourceName
        self.now = now
        scopes = [context]
        globals = Globals.make()
    }

    enum Flow { case normal, breakLoop, continueLoop }

    /// The `loop` variable's attributes (then `previtem` and `nextitem` when there are such items).
    private static let loopKeys = [
        "index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0",
        "cycle",
    ]

    /// Renders `body` and returns the output.
    func render(_ body: [Statement]) throws -> String {
        do {
            _ = try run(body)
        } catch let failure as RenderFailure {
            let place = failure.location
            throw ChatTemplateError(
                source: sourceName, line: place?.line, column: place?.column, message: failure.message,
                isRaisedByTemplate: failure.raisedByTemplate)
        }
        return output
    }

    // MARK: Bounds

    func step() throws { try charge(1) }

    /// Counts `units` of work against `maxSteps`: one per evaluation, plus one per 16 bytes of every string built
    /// and one per 4 items of every collection walked, so a template cannot hang by building or scanning huge
    /// values.
    func charge(_ units: Int) throws {
        steps += units
        if steps > limits.maxSteps {
            throw RenderFailure(
                "the template took more than \(limits.maxSteps) evaluation steps (RenderLimits.maxSteps)")
        }
    }

    /// The size bound is checked before the work is charged, so a value too big to build is refused by the
    /// bound it breaks.
    func checkLength(_ count: Int, _ what: String) throws {
        if count > limits.maxOutputLength {
            throw RenderFailure(
                "\(what) would exceed \(limits.maxOutputLength) characters (RenderLimits.maxOutputLength)")
        }
        try charge(count >> 4)
    }

    /// Python equality, with the work of comparing big values charged.
    func equal(_ a: Value, _ b: Value) throws -> Bool {
        var work = 0
        let result = Value.equal(a, b, work: &work)
        try charge(work >> 2)
        return result
    }

    /// Python ordering (`Operators.order`), with the work of comparing long strings or lists charged.
    func order(_ a: Value, _ b: Value, _ op: String) throws -> Int {
        var work = 0
        if case .string(let x) = a, case .string(let y) = b { work = min(x.utf8.count, y.utf8.count) >> 4 }
        if case .list(let x) = a, case .list(let y) = b { work = min(x.count, y.count) >> 2 }
        try charge(work)
        return try Operators.order(a, b, op)
    }

    func checkCount(_ count: Int, _ what: String) throws {
        if count > limits.maxCollectionCount {
            throw RenderFailure(
                "\(what) would have more than \(limits.maxCollectionCount) items (RenderLimits.maxCollectionCount)")
        }
        try charge(count >> 2)
    }

    private func write(_ text: String) throws {
        let count = text.utf8.count
        outputLength += count
        try charge(count >> 4)
        if outputLength > limits.maxOutputLength {
            throw RenderFailure(
                "the rendered text would exceed \(limits.maxOutputLength) characters (RenderLimits.maxOutputLength)")
        }
        output += text
    }

    /// Runs `body` writing into a fresh buffer, and returns what it wrote (macros, block sets, call blocks).
    func capture(_ body: () throws -> Void) throws -> String {
        let saved = output
        output = ""
        defer { output = saved }
        try body()
        return output
    }

    // MARK: Scopes

    func lookup(_ name: String) -> Value {
        for scope in scopes.reversed() {
            if let value = scope[name] { return value }
        }
        return globals[name] ?? .undefined("'\(name)' is undefined")
    }

    func assign(_ name: String, _ value: Value) {
        scopes[scopes.count - 1][name] = value
    }

    /// Runs `body` in a new scope holding `variables`, on top of `base` scopes (all current ones by default).
    func withScope<T>(_ variables: [String: Value], base: [[String: Value]]? = nil, _ body: () throws -> T) rethrows
        -> T
    {
        let saved = scopes
        scopes = (base ?? scopes) + [variables]
        defer { scopes = saved }
        return try body()
    }

    var topScopes: [[String: Value]] { [scopes[0]] }

    // MARK: Statements

    func run(_ body: [Statement]) throws -> Flow {
        for statement in body {
            let flow = try execute(statement)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func locate<T>(_ location: SourceLocation, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch var failure as RenderFailure {
            if failure.location == nil { failure.location = location }
            throw failure
        }
    }

    private func enter() throws {
        depth += 1
        if depth > Self.maxEvaluationDepth {
            throw RenderFailure("the template nests evaluations deeper than \(Self.maxEvaluationDepth) levels")
        }
    }

    private func execute(_ statement: Statement) throws -> Flow {
        try step()
        try enter()
        defer { depth -= 1 }
        switch statement {
        case .text(let text):
            try write(text)
        case .output(let expression, let location):
            let value = try locate(location) { try evaluate(expression) }
            try locate(location) {
                let text = try Coerce.string(value, self)
                try write(text)
            }
        case .ifBlock(let branches, let elseBody, let location):
            for (test, body) in branches {
                if try locate(location, { try evaluate(test).truthy }) { return try run(body) }
            }
            return try run(elseBody)
        case .forLoop(let target, let iterable, let condition, let body, let elseBody, let location):
            return try locate(location) { try runFor(target, iterable, condition, body, elseBody) }
        case .set(let target, let expression, let location):
            try locate(location) { try assign(target, try evaluate(expression)) }
        case .setBlock(let target, let body, let filters, let location):
            try locate(location) {
                var value = Value.string(try capture { _ = try run(body) })
                for (name, args, kwargs) in filters {
                    value = try Filters.apply(
                        name, value, try args.map(evaluate), try kwargs.map { ($0.0, try evaluate($0.1)) }, self)
                }
                try assign(target, value)
            }
        case .filterBlock(let filters, let body, let location):
            try locate(location) {
                var value = Value.string(try capture { _ = try run(body) })
                for (name, args, kwargs) in filters {
                    value = try Filters.apply(
                        name, value, try args.map(evaluate), try kwargs.map { ($0.0, try evaluate($0.1)) }, self)
                }
                try write(try Coerce.string(value, self))
            }
        case .macro(let name, let parameters, let body, _):
            assign(name, .callable(Macro.make(name: name, parameters: parameters, body: body, renderer: self)))
        case .callBlock(let call, let parameters, let body, let location):
            try locate(location) {
                let caller = Macro.make(name: "caller", parameters: parameters, body: body, renderer: self)
                guard case .call(let callee, let args, let kwargs, let callLocation) = call else { return }
                let function = try evaluate(callee)
                var arguments = Arguments(
                    try args.map(evaluate), keyword: try kwargs.map { ($0.0, try evaluate($0.1)) },
                    location: callLocation)
                arguments.keyword.append(("caller", .callable(caller)))
                try write(try Coerce.string(try callValue(function, arguments), self))
            }
        case .generation(let body):
            return try run(body)
        case .breakLoop: return .breakLoop
        case .continueLoop: return .continueLoop
        }
        return .normal
    }

    private func assign(_ target: AssignTarget, _ value: Value) throws {
        switch target {
        case .name(let name):
            assign(name, value)
        case .attribute(let name, let attribute):
            guard case .namespace(let namespace) = lookup(name) else {
                throw RenderFailure(
                    "cannot assign attribute '\(attribute)' on '\(name)': only namespace() objects take attributes")
            }
            if attribute.hasPrefix("_") {
                throw RenderFailure(
                    "Chat templates cannot store underscore-prefixed attributes on a namespace, but got '\(attribute)'."
                )
            }
            namespace.attributes[attribute] = value
        case .tuple(let names):
            let items = try Coerce.iterate(value, self)
            guard items.count == names.count else {
                throw RenderFailure(
                    items.count > names.count
                        ? "too many values to unpack (expected \(names.count))"
                        : "not enough values to unpack (expected \(names.count), got \(items.count))")
            }
            for (name, item) in zip(names, items) { assign(name, item) }
        }
    }

    private func runFor(
        _ target: AssignTarget, _ iterable: Expression, _ condition: Expression?, _ body: [Statement],
        _ elseBody: [Statement]
    ) throws -> Flow {
        var items = try Coerce.iterate(try evaluate(iterable), self)
        if let condition {
            items = try items.filter { item in
                try withScope([:]) {
                    try assign(target, item)
                    return try evaluate(condition).truthy
                }
            }
        }
        if items.isEmpty { return try run(elseBody) }
        let count = items.count
        for (index, item) in items.enumerated() {
            loopIterations += 1
            if loopIterations > limits.maxLoopIterations {
                throw RenderFailure(
                    "the template ran more than \(limits.maxLoopIterations) loop iterations (RenderLimits.maxLoopIterations)"
                )
            }
            var keys = Self.loopKeys
            var values: [Value] = [
                .int(index + 1), .int(index), .int(count - index), .int(count - index - 1),
                .bool(index == 0), .bool(index == count - 1), .int(count), .int(1), .int(0),
                .callable(
                    Callable("loop.cycle") { arguments, _ in
                        guard !arguments.positional.isEmpty else { throw RenderFailure("no items for cycling given") }
                        return arguments.positional[index % arguments.positional.count]
                    }),
            ]
            if index > 0 {
                keys.append("previtem")
                values.append(items[index - 1])
            }
            if index + 1 < count {
                keys.append("nextitem")
                values.append(items[index + 1])
            }
            let loop = OrderedDict(distinctKeys: keys, values: values)
            let flow = try withScope(["loop": .dict(loop)]) { () -> Flow in
                try assign(target, item)
                return try run(body)
            }
            if flow == .breakLoop { break }
        }
        return .normal
    }

    // MARK: Expressions

    func evaluate(_ expression: Expression) throws -> Value {
        try step()
        try enter()
        defer { depth -= 1 }
        switch expression {
        case .literal(let value): return value
        case .name(let name): return lookup(name)
        case .list(let items):
            return .list(try items.map(evaluate))
        case .tuple(let items):
            return .tuple(try items.map(evaluate))
        case .dict(let pairs):
            var dict = OrderedDict()
            for (key, value) in pairs { dict[try evaluate(key)] = try evaluate(value) }
            return .dict(dict)
        case .attribute(let target, let name):
            return try Access.attribute(try evaluate(target), name, self)
        case .item(let target, let index):
            return try Access.item(try evaluate(target), try evaluate(index), self)
        case .slice(let target, let start, let stop, let stride):
            return try Access.slice(
                try evaluate(target), try start.map(evaluate), try stop.map(evaluate),
                try stride.map(evaluate), self)
        case .call(let callee, let args, let kwargs, let location):
            let function = try evaluate(callee)
            let arguments = Arguments(
                try args.map(evaluate), keyword: try kwargs.map { ($0.0, try evaluate($0.1)) }, location: location)
            return try callValue(function, arguments)
        case .filter(let target, let name, let args, let kwargs, let location):
            let value = try evaluate(target)
            do {
                return try Filters.apply(
                    name, value, try args.map(evaluate), try kwargs.map { ($0.0, try evaluate($0.1)) }, self)
            } catch var failure as RenderFailure {
                if failure.location == nil { failure.location = location }
                throw failure
            }
        case .test(let target, let name, let args, let negated, let location):
            let value = try evaluate(target)
            do {
                let result = try TestFunctions.apply(name, value, try args.map(evaluate), self)
                return .bool(negated ? !result : result)
            } catch var failure as RenderFailure {
                if failure.location == nil { failure.location = location }
                throw failure
            }
        case .negate(let operand):
            return try Operators.negate(try evaluate(operand))
        case .plus(let operand):
            let value = try evaluate(operand)
            guard value.number != nil else { throw RenderFailure("bad operand type for unary +: '\(value.typeName)'") }
            return value
        case .not(let operand):
            return .bool(!(try evaluate(operand).truthy))
        case .and(let left, let right):
            let l = try evaluate(left)
            return l.truthy ? try evaluate(right) : l
        case .or(let left, let right):
            let l = try evaluate(left)
            return l.truthy ? l : try evaluate(right)
        case .binary(let op, let left, let right, let location):
            do {
                return try Operators.binary(op, try evaluate(left), try evaluate(right), self)
            } catch var failure as RenderFailure {
                if failure.location == nil { failure.location = location }
                throw failure
            }
        case .concat(let items):
            var text = ""
            for item in items {
                text += try Coerce.string(try evaluate(item), self)
                try checkLength(text.utf8.count, "a string")
            }
            return .string(text)
        case .compare(let first, let rest, let location):
            var left = try evaluate(first)
            for (op, expression) in rest {
                let right = try evaluate(expression)
                let holds: Bool
                do {
                    holds = try Operators.compare(op, left, right, self)
                } catch var failure as RenderFailure {
                    if failure.location == nil { failure.location = location }
                    throw failure
                }
                if !holds { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let test, let value, let otherwise):
            if try evaluate(test).truthy { return try evaluate(value) }
            return try otherwise.map(evaluate)
                ?? .undefined("the conditional expression evaluated to false and had no else section")
        }
    }

    func callValue(_ function: Value, _ arguments: Arguments) throws -> Value {
        switch function {
        case .callable(let callable):
            callDepth += 1
            defer { callDepth -= 1 }
            if callDepth > limits.maxCallDepth {
                throw RenderFailure(
                    "calls nested deeper than \(limits.maxCallDepth) levels (RenderLimits.maxCallDepth)",
                    at: arguments.location)
            }
            do {
                return try callable.call(arguments, self)
            } catch var failure as RenderFailure {
                if failure.location == nil { failure.location = arguments.location }
                throw failure
            }
        case .undefined(let hint):
            throw RenderFailure(hint, at: arguments.location)
        default:
            throw RenderFailure("'\(function.typeName)' object is not callable", at: arguments.location)
        }
    }
}
