import Foundation

/// Arithmetic and comparison with Python's rules: `/` is true division, `//` and `%` floor toward negative
/// infinity, `+` joins strings and lists, `*` repeats them, ints overflow into an error rather than wrapping.
enum Operators {
    static func negate(_ value: Value) throws -> Value {
        try Coerce.requireDefined(value)
        if let i = value.integer {
            let (result, overflow) = 0.subtractingReportingOverflow(i)
            if overflow { throw RenderFailure("integer overflow") }
            return .int(result)
        }
        if case .double(let d) = value { return .double(-d) }
        throw RenderFailure("bad operand type for unary -: '\(value.typeName)'")
    }

    static func binary(_ op: String, _ left: Value, _ right: Value, _ renderer: Renderer) throws -> Value {
        try Coerce.requireDefined(left)
        try Coerce.requireDefined(right)
        switch (op, left, right) {
        case ("+", .string(let a), .string(let b)):
            try renderer.checkLength(a.utf8.count + b.utf8.count, "a string")
            return .string(a + b)
        case ("+", .list(let a), .list(let b)):
            try renderer.checkCount(a.count + b.count, "a list")
            return .list(a + b)
        case ("+", .tuple(let a), .tuple(let b)):
            try renderer.checkCount(a.count + b.count, "a tuple")
            return .tuple(a + b)
        case ("*", .string(let s), _), ("*", _, .string(let s)):
            guard let n = (left.stringValue == nil ? left : right).integer else { break }
            try renderer.checkLength(max(n, 0) * max(s.utf8.count, 1), "a repeated string")
            return .string(n > 0 ? String(repeating: s, count: n) : "")
        case ("*", .list(let items), _), ("*", _, .list(let items)):
            guard let n = (left.isList ? right : left).integer else { break }
            try renderer.checkCount(max(n, 0) * items.count, "a repeated list")
            return .list(n > 0 ? Array([[Value]](repeating: items, count: n).joined()) : [])
        default: break
        }
        if let a = left.integer, let b = right.integer { return try integer(op, a, b) }
        if let a = left.number, let b = right.number { return try float(op, a, b) }
        throw RenderFailure("unsupported operand type(s) for \(op): '\(left.typeName)' and '\(right.typeName)'")
    }

    private static func integer(_ op: String, _ a: Int, _ b: Int) throws -> Value {
        func checked(_ r: (partialValue: Int, overflow: Bool)) throws -> Value {
            if r.overflow { throw RenderFailure("integer overflow in \(a) \(op) \(b)") }
            return .int(r.partialValue)
        }
        switch op {
        case "+": return try checked(a.addingReportingOverflow(b))
        case "-": return try checked(a.subtractingReportingOverflow(b))
        case "*": return try checked(a.multipliedReportingOverflow(by: b))
        case "/":
            guard b != 0 else { throw RenderFailure("division by zero") }
            return .double(Double(a) / Double(b))
        case "//", "%":
            guard b != 0 else { throw RenderFailure("integer division or modulo by zero") }
            if a == Int.min && b == -1 { throw RenderFailure("integer overflow in \(a) \(op) \(b)") }
            var q = a / b
            var r = a % b
            if r != 0 && ((r < 0) != (b < 0)) {
                q -= 1
                r += b
            }
            return .int(op == "//" ? q : r)
        case "**":
            if b < 0 { return .double(pow(Double(a), Double(b))) }
            var result = 1
            var base = a
            var exponent = b
            while exponent > 0 {
                if exponent & 1 == 1 {
                    let r = result.multipliedReportingOverflow(by: base)
                    if r.overflow { throw RenderFailure("integer overflow in \(a) ** \(b)") }
                    result = r.partialValue
                }
                exponent >>= 1
                if exponent > 0 {
                    let r = base.multipliedReportingOverflow(by: base)
                    if r.overflow { throw RenderFailure("integer overflow in \(a) ** \(b)") }
                    base = r.partialValue
                }
            }
            return .int(result)
        default: throw RenderFailure("unknown operator \(op)")
        }
    }

    private static func float(_ op: String, _ a: Double, _ b: Double) throws -> Value {
        switch op {
        case "+": return .double(a + b)
        case "-": return .double(a - b)
        case "*": return .double(a * b)
        case "/":
            guard b != 0 else { throw RenderFailure("float division by zero") }
            return .double(a / b)
        case "//":
            guard b != 0 else { throw RenderFailure("float floor division by zero") }
            return .double((a / b).rounded(.down))
        case "%":
            guard b != 0 else { throw RenderFailure("float modulo") }
            let r = a.truncatingRemainder(dividingBy: b)
            return .double(r != 0 && ((r < 0) != (b < 0)) ? r + b : r)
        case "**": return .double(pow(a, b))
        default: throw RenderFailure("unknown operator \(op)")
        }
    }

    /// `== != < <= > >= in` and `not in`.
    static func compare(_ op: String, _ left: Value, _ right: Value, _ renderer: Renderer) throws -> Bool {
        switch op {
        case "==": return try renderer.equal(left, right)
        case "!=": return try !renderer.equal(left, right)
        case "in", "not in":
            let found = try contains(right, left, renderer)
            return op == "in" ? found : !found
        default:
            let order = try renderer.order(left, right, op)
            switch op {
            case "<": return order < 0
            case "<=": return order <= 0
            case ">": return order > 0
            default: return order >= 0
            }
        }
    }

    /// Python ordering: numbers with numbers, strings by code point, lists and tuples element by element.
    static func order(_ a: Value, _ b: Value, _ op: String = "<") throws -> Int {
        switch (a, b) {
        case (.string(let x), .string(let y)):
            return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars) ? -1 : x == y ? 0 : 1
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            for (p, q) in zip(x, y) where !Value.equal(p, q) { return try order(p, q, op) }
            return x.count < y.count ? -1 : x.count == y.count ? 0 : 1
        default:
            if let x = a.number, let y = b.number { return x < y ? -1 : x == y ? 0 : 1 }
            try Coerce.requireDefined(a)
            try Coerce.requireDefined(b)
            throw RenderFailure("'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
        }
    }

    /// Python `needle in haystack`.
    static func contains(_ haystack: Value, _ needle: Value, _ renderer: Renderer) throws -> Bool {
        switch haystack {
        case .string(let s):
            guard case .string(let n) = needle else {
                try Coerce.requireDefined(needle)
                throw RenderFailure("'in <string>' requires string as left operand, not \(needle.typeName)")
            }
            try renderer.charge((s.utf8.count + n.utf8.count) >> 4)
            return ScalarSearch.contains(n, in: s)
        case .list(let items), .tuple(let items):
            try renderer.checkCount(items.count, "a membership test")
            return try items.contains { try renderer.equal($0, needle) }
        case .dict(let d): return d[needle] != nil
        case .namespace(let ns): return ns.attributes[needle] != nil
        case .undefined: return false
        default: throw RenderFailure("argument of type '\(haystack.typeName)' is not iterable")
        }
    }
}

extension Value {
    var isList: Bool {
        if case .list = self { return true }
        return false
    }
}
