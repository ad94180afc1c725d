import Foundation

/// The functions every template sees, as transformers' environment defines them: Jinja2's `range`, `dict` and
/// `namespace`, plus `raise_exception(message)` and `strftime_now(format)`.
enum Globals {
    static func make() -> [String: Value] {
        [
            "range": .callable(Callable("range") { args, renderer in try range(args, renderer) }),
            "namespace": .callable(
                Callable("namespace") { args, _ in
                    var attributes = OrderedDict()
                    for value in args.positional {
                        guard case .dict(let d) = value else {
                            throw RenderFailure("namespace() takes a dict or keyword arguments")
                        }
                        for pair in d.pairs { attributes[pair.key] = pair.value }
                    }
                    for (key, value) in args.keyword {
                        if key.hasPrefix("_") {
                            throw RenderFailure(
                                "Chat templates cannot store underscore-prefixed attributes on a namespace, but got '\(key)'."
                            )
                        }
                        attributes[key] = value
                    }
                    return .namespace(Namespace(attributes))
                }),
            "dict": .callable(
                Callable("dict") { args, _ in
                    var d = OrderedDict()
                    for value in args.positional {
                        guard case .dict(let other) = value else {
                            throw RenderFailure("dict() takes a dict or keyword arguments")
                        }
                        for pair in other.pairs { d[pair.key] = pair.value }
                    }
                    for (key, value) in args.keyword { d[key] = value }
                    return .dict(d)
                }),
            "raise_exception": .callable(
                Callable("raise_exception") { args, _ in
                    let message = args.value(0, "message").map(PythonText.str) ?? ""
                    throw RenderFailure(message, raisedByTemplate: true)
                }),
            "strftime_now": .callable(
                Callable("strftime_now") { args, renderer in
                    guard case .string(let format)? = args.value(0, "format") else {
                        throw RenderFailure("strftime_now() needs a format string")
                    }
                    return .string(try Strftime.format(format, renderer.now))
                }),
        ]
    }

    /// Python's `range(stop)`, `range(start, stop[, step])`, as a list (the sandbox allows at most 100000 items).
    private static func range(_ args: Arguments, _ renderer: Renderer) throws -> Value {
        let numbers = try args.positional.map { try Coerce.int($0, "range() arguments") }
        let start: Int
        let stop: Int
        let step: Int
        switch numbers.count {
        case 1: (start, stop, step) = (0, numbers[0], 1)
        case 2: (start, stop, step) = (numbers[0], numbers[1], 1)
        case 3: (start, stop, step) = (numbers[0], numbers[1], numbers[2])
        default: throw RenderFailure("range expected 1 to 3 arguments, got \(numbers.count)")
        }
        guard step != 0 else { throw RenderFailure("range() arg 3 must not be zero") }
        let count =
            step > 0
            ? (stop > start ? (stop - start - 1) / step + 1 : 0) : (start > stop ? (start - stop - 1) / -step + 1 : 0)
        if count > 100_000 {
            throw RenderFailure("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).")
        }
        try renderer.checkCount(count, "a range")
        return .list((0..<count).map { .int(start + $0 * step) })
    }
}

/// A `{% macro %}`: a function whose call renders the macro body in a fresh scope with the arguments bound;
/// extra positional arguments are `varargs`, extra keyword arguments `kwargs`, a call block's body `caller`.
enum Macro {
    static func make(name: String, parameters: MacroParameters, body: [Statement], renderer: Renderer) -> Callable {
        return Callable(name) { arguments, renderer in
            // Like Jinja2, a macro sees the template's top-level names as they are when it is called (itself and
            // macros defined after it included), not the caller's loop variables.
            let base = renderer.topScopes
            var scope: [String: Value] = [:]
            var extra = arguments.positional
            for (i, parameter) in parameters.names.enumerated() {
                if i < arguments.positional.count {
                    scope[parameter] = arguments.positional[i]
                } else if let value = arguments.keyword.first(where: { $0.0 == parameter })?.1 {
                    scope[parameter] = value
                } else if let defaultValue = parameters.defaults[parameter] {
                    scope[parameter] = try renderer.withScope(scope, base: base) { try renderer.evaluate(defaultValue) }
                } else {
                    scope[parameter] = .undefined("parameter '\(parameter)' was not provided")
                }
            }
            extra = Array(arguments.positional.dropFirst(parameters.names.count))
            var kwargs = OrderedDict()
            for (key, value) in arguments.keyword where !parameters.names.contains(key) {
                if key == "caller" {
                    scope["caller"] = value
                    continue
                }
                kwargs[key] = value
            }
            if !extra.isEmpty { scope["varargs"] = .tuple(extra) }
            if !kwargs.isEmpty { scope["kwargs"] = .dict(kwargs) }
            let text = try renderer.withScope(scope, base: base) { try renderer.capture { _ = try renderer.run(body) } }
            return .string(text)
        }
    }
}
