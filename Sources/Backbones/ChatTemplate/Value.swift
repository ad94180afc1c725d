import Foundation

/// A value inside a template, with Python's semantics as Jinja2 gives them (what `transformers` renders with).
///
/// Integers and floats stay apart (`1` prints "1", `1.0` prints "1.0"); dictionaries keep insertion order (JSON
/// object order), as Python's do. `undefined` is Jinja2's default `Undefined`: it prints as "", is falsy,
/// iterates as empty, and is an error when an attribute is read from it or it takes part in arithmetic.
public indirect enum Value {
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([Value])
    case tuple([Value])
    case dict(OrderedDict)
    /// `namespace(...)`: the one mutable object templates have (`{% set ns.x = ... %}`).
    case namespace(Namespace)
    case callable(Callable)

    /// Jinja2's default Undefined for a missing name or attribute; `hint` names it in error messages.
    public static func missing(_ hint: String) -> Value { .undefined(hint) }

    public var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    public var isNone: Bool {
        if case .none = self { return true }
        return false
    }

    /// Python truthiness.
    public var truthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let items), .tuple(let items): return !items.isEmpty
        case .dict(let d): return !d.isEmpty
        case .namespace, .callable: return true
        }
    }

    /// Python's type name, for error messages ("str", "int", "list", "dict", "NoneType").
    public var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .callable: return "function"
        }
    }

    /// The number as a Double (bools and ints widened), or nil for non-numbers.
    var number: Double? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// The integer value of ints and bools (Python's bool is an int).
    var integer: Int? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return i
        default: return nil
        }
    }

    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

/// A dictionary that keeps insertion order, like Python's `dict`. Keys are values compared with Python equality
/// (in practice strings and numbers). Lookups of hashable keys (as Python defines them: `HashKey`) are hashed, so
/// building or reading a dict of n keys is O(n), whatever a data file or template puts in it.
public struct OrderedDict {
    public private(set) var keys: [Value] = []
    public private(set) var values: [Value] = []
    /// Position of every key that has a `HashKey`.
    private var hashed: [HashKey: Int] = [:]
    /// Positions of the keys that have none (lists, dicts, undefined), searched one by one.
    private var unhashed: [Int] = []

    public init() {}

    public init(_ pairs: [(Value, Value)]) {
        for (k, v) in pairs { self[k] = v }
    }

    /// Keys known to be distinct, in order (no equality checks).
    init(distinctKeys: [String], values: [Value]) {
        keys = distinctKeys.map { .string($0) }
        self.values = values
        for (i, key) in distinctKeys.enumerated() { hashed[HashKey(string: key)] = i }
    }

    public var isEmpty: Bool { keys.isEmpty }
    public var count: Int { keys.count }

    func index(of key: Value) -> Int? {
        if let h = HashKey(key) { return hashed[h] }
        return unhashed.first { Value.equal(keys[$0], key) }
    }

    public subscript(key: Value) -> Value? {
        get { index(of: key).map { values[$0] } }
        set {
            if let i = index(of: key) {
                if let newValue {
                    values[i] = newValue
                } else {
                    keys.remove(at: i)
                    values.remove(at: i)
                    reindex()
                }
            } else if let newValue {
                if let h = HashKey(key) { hashed[h] = keys.count } else { unhashed.append(keys.count) }
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    private mutating func reindex() {
        hashed = [:]
        unhashed = []
        for (i, key) in keys.enumerated() {
            if let h = HashKey(key) { hashed[h] = i } else { unhashed.append(i) }
        }
    }

    public subscript(key: String) -> Value? {
        get { self[.string(key)] }
        set { self[.string(key)] = newValue }
    }

    public var pairs: [(key: Value, value: Value)] { Array(zip(keys, values)).map { (key: $0.0, value: $0.1) } }
}

/// `namespace(...)`: attributes set with `{% set ns.name = value %}` survive loop and block scopes.
public final class Namespace {
    public var attributes = OrderedDict()
    init(_ attributes: OrderedDict) { self.attributes = attributes }
}

/// A function a template can call: a global (`raise_exception`), a bound method (`'a'.upper`), or a macro.
public final class Callable {
    public let name: String
    let call: (_ arguments: Arguments, _ context: Renderer) throws -> Value
    init(_ name: String, _ call: @escaping (Arguments, Renderer) throws -> Value) {
        self.name = name
        self.call = call
    }
}

/// Positional and keyword arguments of a call, in Python's order.
struct Arguments {
    var positional: [Value]
    var keyword: [(String, Value)]
    /// The call site, for error messages.
    var location: SourceLocation

    init(_ positional: [Value] = [], keyword: [(String, Value)] = [], location: SourceLocation) {
        self.positional = positional
        self.keyword = keyword
        self.location = location
    }

    /// The argument at `index` or with keyword `name`, else nil.
    func value(_ index: Int, _ name: String) -> Value? {
        if index < positional.count { return positional[index] }
        return keyword.first { $0.0 == name }?.1
    }
}

extension Value {
    /// Python `==` (1 == 1.0 == True; containers compare element-wise; undefined equals only undefined).
    static func equal(_ a: Value, _ b: Value) -> Bool {
        var work = 0
        return equal(a, b, work: &work)
    }

    /// Python equality, adding to `work` one per value compared and one per 16 bytes of string compared, so a
    /// caller can charge a template for comparing big values (`Renderer.equal`).
    static func equal(_ a: Value, _ b: Value, work: inout Int) -> Bool {
        work += 1
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let x), .string(let y)):
            work += min(x.utf8.count, y.utf8.count) >> 4
            return x == y
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            guard x.count == y.count else { return false }
            for (p, q) in zip(x, y) where !equal(p, q, work: &work) { return false }
            return true
        case (.dict(let x), .dict(let y)):
            guard x.count == y.count else { return false }
            for pair in x.pairs {
                guard let other = y[pair.key], equal(other, pair.value, work: &work) else { return false }
            }
            return true
        case (.namespace(let x), .namespace(let y)): return x === y
        case (.callable(let x), .callable(let y)): return x === y
        default:
            if let x = a.integer, let y = b.integer { return x == y }
            if let x = a.number, let y = b.number { return x == y }
            return false
        }
    }
}

/// A value as Python hashes it: equal values (`1`, `1.0` and `True`; equal strings; tuples of equal items) have
/// equal keys, so sets and dicts of template values can be hashed. Lists, dicts and the rest have none (Python
/// calls them unhashable); callers compare those one by one.
struct HashKey: Hashable {
    private enum Kind: Hashable {
        case none
        case int(Int)
        case double(Double)
        case string(String)
        case tuple([Kind])
    }
    private let kind: Kind

    init?(_ value: Value) {
        guard let kind = Self.kind(value) else { return nil }
        self.kind = kind
    }

    init(string: String) { kind = .string(string) }

    private static func kind(_ value: Value) -> Kind? {
        switch value {
        case .none: return Kind.none
        case .bool(let b): return .int(b ? 1 : 0)
        case .int(let i): return .int(i)
        case .double(let d):
            // An integral double equals the int of the same value (1.0 == 1).
            if d.rounded() == d, d >= -9.2e18, d <= 9.2e18 { return .int(Int(d)) }
            return .double(d)
        case .string(let s): return .string(s)
        case .tuple(let items):
            var kinds: [Kind] = []
            for item in items {
                guard let k = kind(item) else { return nil }
                kinds.append(k)
            }
            return .tuple(kinds)
        case .undefined, .list, .dict, .namespace, .callable: return nil
        }
    }
}
