import Foundation

/// Jinja2's built-in filters as version 3.1 defines them, with transformers' `tojson`
/// (`json.dumps(x, ensure_ascii=False, indent, separators, sort_keys=False)`, no HTML escaping).
enum Filters {
    static let names: Set<String> = [
        "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "first",
        "float", "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min", "reject",
        "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort", "string", "sum", "title",
        "tojson", "trim", "unique", "upper", "wordcount",
    ]

    /// Keyword or positional argument `index`/`name` of a filter call (after the filtered value).
    private struct FilterArguments {
        let args: [Value]
        let kwargs: [(String, Value)]
        func value(_ index: Int, _ name: String) -> Value? {
            if index < args.count { return args[index] }
            return kwargs.first { $0.0 == name }?.1
        }
        func bool(_ index: Int, _ name: String, _ fallback: Bool) -> Bool { value(index, name)?.truthy ?? fallback }
    }

    static func apply(
        _ name: String, _ value: Value, _ args: [Value], _ kwargs: [(String, Value)], _ renderer: Renderer
    )
        throws -> Value
    {
        let a = FilterArguments(args: args, kwargs: kwargs)
        func text() throws -> String { try Coerce.string(value, renderer) }
        switch name {
        case "default", "d":
            let fallback = a.value(0, "default_value") ?? .string("")
            if value.isUndefined || (a.bool(1, "boolean", false) && !value.truthy) { return fallback }
            return value
        case "string", "safe": return .string(try text())
        case "e", "escape":
            var out = ""
            for c in try text() {
                switch c {
                case "&": out += "&amp;"
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "\"": out += "&#34;"
                case "'": out += "&#39;"
                default: out.append(c)
                }
            }
            return .string(out)
        case "trim":
            let chars = a.value(0, "chars").flatMap { $0.isNone ? nil : PythonText.str($0) }
            return .string(Methods.pythonStrip(try text(), chars, leading: true, trailing: true))
        case "upper": return .string(try text().uppercased())
        case "lower": return .string(try text().lowercased())
        case "capitalize": return .string(Methods.pythonCapitalize(try text()))
        case "title": return .string(title(try text()))
        case "replace":
            guard let old = a.value(0, "old"), let new = a.value(1, "new") else {
                throw RenderFailure("replace needs old and new")
            }
            let count = try a.value(2, "count").flatMap { $0.isNone ? nil : try Coerce.int($0, "count") } ?? -1
            return .string(
                try Methods.pythonReplace(try text(), PythonText.str(old), PythonText.str(new), count, renderer))
        case "length", "count":
            // Counting code points reads the whole string.
            if case .string(let s) = value { try renderer.charge(s.utf8.count >> 4) }
            return .int(try Coerce.length(value))
        case "wordcount":
            return .int(try text().split { !($0.isLetter || $0.isNumber || $0 == "_") }.count)
        case "center":
            let width = try Coerce.int(a.value(0, "width") ?? .int(80), "width")
            let s = try text()
            let pad = max(width - s.unicodeScalars.count, 0)
            try renderer.checkLength(width, "a centred string")
            let left = pad / 2 + (pad & width & 1)
            return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: pad - left))
        case "first":
            return try Coerce.iterate(value, renderer).first ?? .undefined("No first item, sequence was empty.")
        case "last":
            if case .dict = value { throw RenderFailure("'dict' object is not reversible") }
            return try Coerce.iterate(value, renderer).last ?? .undefined("No last item, sequence was empty.")
        case "list": return .list(try Coerce.iterate(value, renderer))
        case "items":
            switch value {
            case .undefined: return .list([])
            case .dict(let d): return .list(d.pairs.map { .tuple([$0.key, $0.value]) })
            default: throw RenderFailure("Can only get item pairs from a mapping.")
            }
        case "reverse":
            if case .string(let s) = value {
                return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed())))
            }
            return .list(try Coerce.iterate(value, renderer).reversed())
        case "join":
            var items = try Coerce.iterate(value, renderer)
            if let attribute = a.value(1, "attribute"), !attribute.isNone {
                items = try items.map { try attributeGetter(attribute, renderer)($0) }
            }
            let separator = PythonText.str(a.value(0, "d") ?? .string(""))
            let parts = try items.map { try Coerce.string($0, renderer) }
            try renderer.checkLength(Methods.joinedLength(parts, separator: separator), "a joined string")
            return .string(parts.joined(separator: separator))
        case "abs":
            try Coerce.requireDefined(value)
            if let i = value.integer { return .int(i == Int.min ? i : abs(i)) }
            if case .double(let d) = value { return .double(abs(d)) }
            throw RenderFailure("bad operand type for abs(): '\(value.typeName)'")
        case "int": return try int(value, a)
        case "float":
            let fallback = a.value(0, "default") ?? .double(0)
            switch value {
            case .double: return value
            case .int, .bool: return .double(value.number!)
            case .string(let s):
                return Double(s.trimmingCharacters(in: .whitespacesAndNewlines)).map { .double($0) } ?? fallback
            default: return fallback
            }
        case "round":
            try Coerce.requireDefined(value)
            guard let x = value.number else { throw RenderFailure("round needs a number, not '\(value.typeName)'") }
            let precision = try Coerce.int(a.value(0, "precision") ?? .int(0), "precision")
            let method = PythonText.str(a.value(1, "method") ?? .string("common"))
            switch method {
            case "common": return .double(PythonText.round(x, digits: precision))
            case "ceil", "floor":
                let scale = pow(10.0, Double(precision))
                let scaled = x * scale
                return .double((method == "ceil" ? scaled.rounded(.up) : scaled.rounded(.down)) / scale)
            default: throw RenderFailure("method must be common, ceil or floor")
            }
        case "tojson": return .string(try tojson(value, a, renderer))
        case "indent": return .string(try indent(try text(), a, renderer))
        case "attr":
            return try Access.attribute(value, PythonText.str(a.value(0, "name") ?? .string("")), renderer)
        case "map": return .list(try map(value, a, renderer))
        case "select", "reject", "selectattr", "rejectattr":
            return .list(try select(name, value, args, renderer))
        case "sort": return .list(try sort(value, a, renderer))
        case "unique":
            // Jinja2 keeps a set of the keys seen: hashed here too, so this is linear. Keys Python cannot hash
            // (lists, dicts) are compared one by one, with the work charged.
            let items = try Coerce.iterate(value, renderer)
            try renderer.charge(items.count)
            var seen = Set<HashKey>(minimumCapacity: items.count)
            var seenUnhashable: [Value] = []
            var out: [Value] = []
            let caseSensitive = a.bool(0, "case_sensitive", false)
            let getter = try a.value(1, "attribute").map { try attributeGetter($0, renderer) }
            for item in items {
                var key = try getter?(item) ?? item
                if !caseSensitive, case .string(let s) = key { key = .string(s.lowercased()) }
                if let h = HashKey(key) {
                    if seen.insert(h).inserted { out.append(item) }
                } else if try !seenUnhashable.contains(where: { try renderer.equal($0, key) }) {
                    seenUnhashable.append(key)
                    out.append(item)
                }
            }
            return .list(out)
        case "dictsort":
            guard case .dict(let d) = value else {
                throw RenderFailure("dictsort needs a mapping, not '\(value.typeName)'")
            }
            let caseSensitive = a.bool(0, "case_sensitive", false)
            let byValue = PythonText.str(a.value(1, "by") ?? .string("key")) == "value"
            let reverse = a.bool(2, "reverse", false)
            let pairs = try stableSort(d.pairs.map { Value.tuple([$0.key, $0.value]) }, reverse: reverse) { item in
                guard case .tuple(let kv) = item else { return item }
                let key = byValue ? kv[1] : kv[0]
                if !caseSensitive, case .string(let s) = key { return .string(s.lowercased()) }
                return key
            }
            return .list(pairs)
        case "batch":
            let size = try Coerce.int(a.value(0, "linecount") ?? .int(1), "linecount")
            guard size > 0 else { throw RenderFailure("batch size must be positive") }
            try renderer.checkCount(size, "a batch")
            let items = try Coerce.iterate(value, renderer)
            var out: [Value] = []
            var start = 0
            while start < items.count {
                var chunk = Array(items[start..<min(start + size, items.count)])
                if chunk.count < size, let fill = a.value(1, "fill_with"), !fill.isNone {
                    chunk += Array(repeating: fill, count: size - chunk.count)
                }
                out.append(.list(chunk))
                start += size
            }
            return .list(out)
        case "sum":
            var items = try Coerce.iterate(value, renderer)
            if let attribute = a.value(0, "attribute"), !attribute.isNone {
                items = try items.map { try attributeGetter(attribute, renderer)($0) }
            }
            var total = a.value(1, "start") ?? .int(0)
            for item in items { total = try Operators.binary("+", total, item, renderer) }
            return total
        case "min", "max":
            let caseSensitive = a.bool(0, "case_sensitive", false)
            let getter = try a.value(1, "attribute").flatMap { $0.isNone ? nil : try attributeGetter($0, renderer) }
            let items = try Coerce.iterate(value, renderer)
            guard !items.isEmpty else { return .undefined("No aggregated item, sequence was empty.") }
            func key(_ item: Value) throws -> Value {
                let k = try getter?(item) ?? item
                if !caseSensitive, case .string(let s) = k { return .string(s.lowercased()) }
                return k
            }
            var best = items[0]
            for item in items.dropFirst() {
                let order = try Operators.order(try key(item), try key(best))
                if (name == "min" && order < 0) || (name == "max" && order > 0) { best = item }
            }
            return best
        default:
            throw RenderFailure("No filter named '\(name)'.")
        }
    }

    /// Jinja2's `title`: each word (split at whitespace, `-`, `(`, `{`, `[`, `<`) gets an upper first letter and
    /// lower rest.
    private static func title(_ s: String) -> String {
        var out = ""
        var atWordStart = true
        for c in s {
            if c.isWhitespace || "-({[<".contains(c) {
                out.append(c)
                atWordStart = true
            } else {
                out += atWordStart ? c.uppercased() : c.lowercased()
                atWordStart = false
            }
        }
        return out
    }

    private static func int(_ value: Value, _ a: FilterArguments) throws -> Value {
        let fallback = a.value(0, "default") ?? .int(0)
        let base = try a.value(1, "base").map { try Coerce.int($0, "base") } ?? 10
        switch value {
        case .int: return value
        case .bool(let b): return .int(b ? 1 : 0)
        case .double(let d):
            guard d.isFinite, abs(d) < 9.2e18 else { return fallback }
            return .int(Int(d))
        case .string(let raw):
            let s = raw.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "_", with: "")
            if let i = Int(s, radix: base) { return .int(i) }
            if base == 10, let d = Double(s), d.isFinite, abs(d) < 9.2e18 { return .int(Int(d)) }
            return fallback
        default: return fallback
        }
    }

    private static func tojson(_ value: Value, _ a: FilterArguments, _ renderer: Renderer) throws -> String {
        var indent: String?
        if let i = a.value(1, "indent"), !i.isNone {
            if case .string(let s) = i {
                indent = s
            } else {
                let width = try Coerce.int(i, "indent")
                try renderer.checkLength(width, "tojson's indent")
                indent = String(repeating: " ", count: max(width, 0))
            }
        }
        var itemSeparator: String?
        var keySeparator = ": "
        if let separators = a.value(2, "separators"), !separators.isNone {
            let parts = try Coerce.iterate(separators, renderer)
            guard parts.count == 2, case .string(let item) = parts[0], case .string(let key) = parts[1] else {
                throw RenderFailure("tojson: separators must be a pair of strings")
            }
            itemSeparator = item
            keySeparator = key
        }
        var target = value
        if a.bool(3, "sort_keys", false) { target = sortKeys(value) }
        let text = try ValueJSON.dumps(
            target, indent: indent, itemSeparator: itemSeparator, keySeparator: keySeparator,
            maxLength: renderer.limits.maxOutputLength)
        try renderer.checkLength(text.utf8.count, "tojson's output")
        return text
    }

    private static func sortKeys(_ value: Value) -> Value {
        switch value {
        case .dict(let d):
            let pairs = d.pairs.sorted {
                PythonText.str($0.key).unicodeScalars.lexicographicallyPrecedes(PythonText.str($1.key).unicodeScalars)
            }
            return .dict(OrderedDict(pairs.map { ($0.key, sortKeys($0.value)) }))
        case .list(let items): return .list(items.map(sortKeys))
        case .tuple(let items): return .tuple(items.map(sortKeys))
        default: return value
        }
    }

    /// Jinja2 3.1's `indent(width=4, first=False, blank=False)`: blank lines stay empty unless `blank`.
    private static func indent(_ s: String, _ a: FilterArguments, _ renderer: Renderer) throws -> String {
        let prefix: String
        if case .string(let p)? = a.value(0, "width") {
            prefix = p
        } else {
            let width = try Coerce.int(a.value(0, "width") ?? .int(4), "width")
            try renderer.checkLength(width, "an indent")
            prefix = String(repeating: " ", count: max(width, 0))
        }
        // Every line may get the prefix: refuse before building what would break the length bound.
        let lineCount = s.utf8.reduce(1) { $0 + ($1 == 10 ? 1 : 0) }
        let (added, overflow) = lineCount.multipliedReportingOverflow(by: prefix.utf8.count)
        try renderer.checkLength(overflow ? Int.max : s.utf8.count + added, "an indented string")
        let first = a.bool(1, "first", false)
        let blank = a.bool(2, "blank", false)
        var lines = (s + "\n").split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }).map(
            String.init)
        lines.removeLast()
        var result: String
        if blank {
            result = lines.joined(separator: "\n" + prefix)
        } else {
            result = lines.isEmpty ? "" : lines[0]
            if lines.count > 1 {
                result += "\n" + lines.dropFirst().map { $0.isEmpty ? $0 : prefix + $0 }.joined(separator: "\n")
            }
        }
        return first ? prefix + result : result
    }

    /// `attribute="a.b"` or an integer index, read with item-first lookup as Jinja2's `make_attrgetter` does.
    private static func attributeGetter(_ attribute: Value, _ renderer: Renderer) throws -> (Value) throws -> Value {
        let parts: [Value]
        if case .string(let s) = attribute {
            parts = s.split(separator: ".", omittingEmptySubsequences: false).map { part in
                Int(part).map { .int($0) } ?? .string(String(part))
            }
        } else {
            parts = [attribute]
        }
        return { item in
            var current = item
            for part in parts {
                if current.isUndefined { return current }
                current = try Access.item(current, part, renderer)
            }
            return current
        }
    }

    private static func map(_ value: Value, _ a: FilterArguments, _ renderer: Renderer) throws -> [Value] {
        let items = try Coerce.iterate(value, renderer)
        if let attribute = a.kwargs.first(where: { $0.0 == "attribute" })?.1 {
            let getter = try attributeGetter(attribute, renderer)
            let fallback = a.kwargs.first { $0.0 == "default" }?.1
            return try items.map { item in
                let v = try getter(item)
                if v.isUndefined, let fallback { return fallback }
                return v
            }
        }
        guard case .string(let filter)? = a.args.first else {
            throw RenderFailure("map requires a filter name or attribute=")
        }
        guard names.contains(filter) else { throw RenderFailure("No filter named '\(filter)'.") }
        return try items.map { try apply(filter, $0, Array(a.args.dropFirst()), a.kwargs, renderer) }
    }

    private static func select(_ name: String, _ value: Value, _ args: [Value], _ renderer: Renderer) throws -> [Value]
    {
        let byAttribute = name.hasSuffix("attr")
        let keep = name.hasPrefix("select")
        var rest = args
        var getter: ((Value) throws -> Value)?
        if byAttribute {
            guard !rest.isEmpty else { throw RenderFailure("\(name) needs an attribute name") }
            getter = try attributeGetter(rest.removeFirst(), renderer)
        }
        var testName: String?
        if !rest.isEmpty {
            guard case .string(let t) = rest.removeFirst() else {
                throw RenderFailure("\(name): the test name must be a string")
            }
            guard TestFunctions.names.contains(t) else { throw RenderFailure("No test named '\(t)'.") }
            testName = t
        }
        return try Coerce.iterate(value, renderer).filter { item in
            let subject = try getter?(item) ?? item
            let passes = try testName.map { try TestFunctions.apply($0, subject, rest, renderer) } ?? subject.truthy
            return passes == keep
        }
    }

    private static func sort(_ value: Value, _ a: FilterArguments, _ renderer: Renderer) throws -> [Value] {
        let reverse = a.bool(0, "reverse", false)
        let caseSensitive = a.bool(1, "case_sensitive", false)
        let getter = try a.value(2, "attribute").flatMap { $0.isNone ? nil : try attributeGetter($0, renderer) }
        return try stableSort(try Coerce.iterate(value, renderer), reverse: reverse) { item in
            let key = try getter?(item) ?? item
            if !caseSensitive, case .string(let s) = key { return .string(s.lowercased()) }
            return key
        }
    }

    /// Python's stable `sorted(items, key=key, reverse=reverse)`.
    private static func stableSort(_ items: [Value], reverse: Bool, key: (Value) throws -> Value) throws -> [Value] {
        let keyed = try items.enumerated().map { (offset: $0.offset, key: try key($0.element), item: $0.element) }
        var failure: Error?
        let sorted = keyed.sorted { x, y in
            do {
                let order = try Operators.order(x.key, y.key)
                if order != 0 { return reverse ? order > 0 : order < 0 }
            } catch {
                failure = failure ?? error
            }
            return x.offset < y.offset
        }
        if let failure { throw failure }
        return sorted.map(\.item)
    }
}
