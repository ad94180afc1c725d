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
/// (in practice strings and numbers).
public struct OrderedDict {
    public private(set) var keys: [Value] = []
    public private(set) var values: [Value] = []

    public init() {}

    public init(_ pairs: [(Value, Value)]) {
        for (k, v) in pairs { self[k] = v }
    }

    /// Keys known to be distinct, in order (no equality checks).
    init(distinctKeys: [String], values: [Value]) {
        keys = distinctKeys.map { .string($0) }
        self.values = values
    }

    public var isEmpty: Bool { keys.isEmpty }
    public var count: Int { keys.count }

    func index(of key: Value) -> Int? { keys.firstIndex { Value.equal($0, key) } }

    public subscript(key: Value) -> Value? {
        get { index(of: key).map { values[$0] } }
        set {
            if let i = index(of: key) {
                if let newValue {
                    values[i] = newValue
                } else {
                    keys.remove(at: i)
                    values.remove(at: i)
                }
            } else if let newValue {
                keys.append(key)
                values.append(newValue)
            }
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
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let x), .string(let y)): return x == y
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.dict(let x), .dict(let y)):
            return x.count == y.count
                && x.pairs.allSatisfy { pair in y[pair.key].map { equal($0, pair.value) } ?? false }
        case (.namespace(let x), .namespace(let y)): return x === y
        case (.callable(let x), .callable(let y)): return x === y
        default:
            if let x = a.integer, let y = b.integer { return x == y }
            if let x = a.number, let y = b.number { return x == y }
            return false
        }
    }
}
