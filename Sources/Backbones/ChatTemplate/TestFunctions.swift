import Foundation

/// Jinja2's tests (`x is defined`, `x is divisibleby 3`, `x is equalto y`), with Python's type rules: a bool is a
/// number but not an integer, a dict is iterable and a sequence, a string is iterable.
enum TestFunctions {
    static let names: Set<String> = [
        "defined", "undefined", "none", "string", "mapping", "iterable", "sequence", "number", "integer", "float",
        "boolean", "true", "false", "callable", "equalto", "eq", "==", "ne", "!=", "lt", "<", "lessthan", "le", "<=",
        "gt", ">", "greaterthan", "ge", ">=", "in", "odd", "even", "divisibleby", "lower", "upper", "sameas", "escaped",
        "filter", "test",
    ]

    static func apply(_ name: String, _ value: Value, _ args: [Value], _ renderer: Renderer) throws -> Bool {
        func argument() throws -> Value {
            guard let first = args.first else { throw RenderFailure("the test '\(name)' needs an argument") }
            return first
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": return value.isNone
        case "string": return value.stringValue != nil
        case "mapping":
            if case .dict = value { return true }
            return false
        case "iterable":
            switch value {
            case .undefined, .string, .list, .tuple, .dict: return true
            default: return false
            }
        case "sequence":
            switch value {
            case .undefined, .string, .list, .tuple, .dict: return true
            default: return false
            }
        case "number": return value.number != nil
        case "integer":
            if case .int = value { return true }
            return false
        case "float":
            if case .double = value { return true }
            return false
        case "boolean":
            if case .bool = value { return true }
            return false
        case "true":
            if case .bool(true) = value { return true }
            return false
        case "false":
            if case .bool(false) = value { return true }
            return false
        case "callable":
            if case .callable = value { return true }
            return false
        case "equalto", "eq", "==": return try renderer.equal(value, try argument())
        case "ne", "!=": return try !renderer.equal(value, try argument())
        case "lt", "<", "lessthan": return try renderer.order(value, try argument(), "<") < 0
        case "le", "<=": return try renderer.order(value, try argument(), "<=") <= 0
        case "gt", ">", "greaterthan": return try renderer.order(value, try argument(), ">") > 0
        case "ge", ">=": return try renderer.order(value, try argument(), ">=") >= 0
        case "in": return try Operators.contains(try argument(), value, renderer)
        case "odd", "even":
            try Coerce.requireDefined(value)
            guard let i = value.integer else {
                throw RenderFailure("the test '\(name)' needs an integer, not '\(value.typeName)'")
            }
            return (i % 2 != 0) == (name == "odd")
        case "divisibleby":
            let n = try Coerce.int(try argument(), "divisibleby's argument")
            guard n != 0 else { throw RenderFailure("integer division or modulo by zero") }
            if let i = value.integer { return i % n == 0 }
            if let d = value.number { return d.truncatingRemainder(dividingBy: Double(n)) == 0 }
            try Coerce.requireDefined(value)
            throw RenderFailure("the test 'divisibleby' needs a number, not '\(value.typeName)'")
        case "lower", "upper":
            let s = PythonText.str(value)
            let cased = s.contains { $0.isCased }
            return cased && (name == "lower" ? !s.contains { $0.isUppercase } : !s.contains { $0.isLowercase })
        case "sameas":
            let other = try argument()
            switch (value, other) {
            case (.none, .none): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.namespace(let a), .namespace(let b)): return a === b
            default: return false
            }
        case "escaped": return false
        case "filter":
            guard case .string(let n) = try argument() else { return false }
            return Filters.names.contains(n)
        case "test":
            guard case .string(let n) = try argument() else { return false }
            return names.contains(n)
        default:
            throw RenderFailure("No test named '\(name)'.")
        }
    }
}
