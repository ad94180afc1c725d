import Foundation

/// `a.b`, `a[b]` and `a[i:j:k]` as Jinja2's sandbox resolves them.
///
/// `a.b` tries a method or attribute of `a`, then the item `a['b']`; `a[b]` tries the item first, then the
/// attribute. Missing attributes and items (and anything read from `none`) are undefined; reading from an
/// undefined value is an error. Methods that mutate lists and dicts are refused, as transformers'
/// `ImmutableSandboxedEnvironment` refuses them.
enum Access {
    static func attribute(_ target: Value, _ name: String, _ renderer: Renderer) throws -> Value {
        if case .undefined(let hint) = target { throw RenderFailure(hint) }
        if let method = try Methods.bound(target, name) { return method }
        if case .namespace(let ns) = target {
            return ns.attributes[name] ?? .undefined("'Namespace object' has no attribute '\(name)'")
        }
        return try itemOnly(target, .string(name)) ?? .undefined("'\(describe(target))' has no attribute '\(name)'")
    }

    static func item(_ target: Value, _ key: Value, _ renderer: Renderer) throws -> Value {
        if case .undefined(let hint) = target { throw RenderFailure(hint) }
        if let found = try itemOnly(target, key) { return found }
        if case .string(let name) = key, let method = try Methods.bound(target, name) { return method }
        if case .namespace(let ns) = target, case .string(let name) = key, let v = ns.attributes[name] { return v }
        return .undefined("'\(describe(target))' has no attribute \(PythonText.repr(key))")
    }

    /// `obj[key]` without the attribute fallback; nil when missing.
    private static func itemOnly(_ target: Value, _ key: Value) throws -> Value? {
        switch target {
        case .dict(let d): return d[key]
        case .list(let items), .tuple(let items):
            guard let i = key.integer else { return nil }
            let index = i < 0 ? items.count + i : i
            return items.indices.contains(index) ? items[index] : nil
        case .string(let s):
            guard let i = key.integer else { return nil }
            let scalars = Array(s.unicodeScalars)
            let index = i < 0 ? scalars.count + i : i
            return scalars.indices.contains(index) ? .string(String(scalars[index])) : nil
        default: return nil
        }
    }

    /// Jinja2's name for an object in "has no attribute" hints ("dict object", "str object").
    static func describe(_ value: Value) -> String {
        value.typeName + " object"
    }

    static func slice(_ target: Value, _ start: Value?, _ stop: Value?, _ stride: Value?, _ renderer: Renderer) throws
        -> Value
    {
        if case .undefined(let hint) = target { throw RenderFailure(hint) }
        func bound(_ v: Value?) throws -> Int? {
            guard let v, !v.isNone else { return nil }
            return try Coerce.int(v, "slice indices")
        }
        let step = try bound(stride) ?? 1
        guard step != 0 else { throw RenderFailure("slice step cannot be zero") }
        func indices(_ count: Int) throws -> [Int] {
            var lower = try bound(start)
            var upper = try bound(stop)
            if step > 0 {
                var a = lower ?? 0
                var b = upper ?? count
                if a < 0 { a = max(a + count, 0) } else { a = min(a, count) }
                if b < 0 { b = max(b + count, 0) } else { b = min(b, count) }
                lower = a
                upper = b
                return a < b ? Array(Swift.stride(from: a, to: b, by: step)) : []
            }
            var a = lower ?? count - 1
            var b = upper ?? -count - 1
            if a < 0 { a = max(a + count, -1) } else { a = min(a, count - 1) }
            if upper != nil { if b < 0 { b = max(b + count, -1) } else { b = min(b, count - 1) } } else { b = -1 }
            return a > b ? Array(Swift.stride(from: a, to: b, by: step)) : []
        }
        switch target {
        case .list(let items): return .list(try indices(items.count).map { items[$0] })
        case .tuple(let items): return .tuple(try indices(items.count).map { items[$0] })
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in try indices(scalars.count) { out.append(scalars[i]) }
            return .string(String(out))
        case .none: return .undefined("'NoneType' object is not subscriptable")
        default: throw RenderFailure("'\(target.typeName)' object is not subscriptable")
        }
    }
}
