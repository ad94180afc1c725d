import Foundation

/// Conversions every part of the evaluator shares: printing and iterating, with Jinja2's rules.
enum Coerce {
    /// What `{{ value }}` prints: Python's `str()`, undefined as "".
    static func string(_ value: Value, _ renderer: Renderer) throws -> String {
        let text = PythonText.str(value)
        try renderer.checkLength(text.utf8.count, "a printed value")
        return text
    }

    /// The items a `for` loop or a filter sees: list and tuple items, a string's characters, a dict's keys;
    /// undefined iterates as empty (Jinja2's default Undefined).
    static func iterate(_ value: Value, _ renderer: Renderer) throws -> [Value] {
        let items = try iterateUncharged(value)
        try renderer.checkCount(items.count, "an iteration")
        return items
    }

    private static func iterateUncharged(_ value: Value) throws -> [Value] {
        switch value {
        case .undefined: return []
        case .list(let items), .tuple(let items): return items
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .dict(let d): return d.keys
        case .namespace(let ns): return ns.attributes.keys
        default: throw RenderFailure("'\(value.typeName)' object is not iterable")
        }
    }

    /// Python's `len()`.
    static func length(_ value: Value) throws -> Int {
        switch value {
        case .undefined: return 0
        case .string(let s): return s.unicodeScalars.count
        case .list(let items), .tuple(let items): return items.count
        case .dict(let d): return d.count
        default: throw RenderFailure("object of type '\(value.typeName)' has no len()")
        }
    }

    /// An error for using an undefined value where a defined one is needed.
    static func requireDefined(_ value: Value) throws {
        if case .undefined(let hint) = value { throw RenderFailure(hint) }
    }

    static func int(_ value: Value, _ what: String) throws -> Int {
        try requireDefined(value)
        if let i = value.integer { return i }
        throw RenderFailure("\(what) must be an integer, not '\(value.typeName)'")
    }
}
