import Foundation

/// Python methods templates call on strings (`strip`, `split`, `startswith`, `format`...), dicts (`items`, `keys`,
/// `values`, `get`) and lists (`index`, `count`). Mutating methods (`append`, `pop`, `update`...) are refused
/// with the error transformers' immutable sandbox gives.
enum Methods {
    private static let unsafeList: Set<String> = [
        "append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear",
    ]
    private static let unsafeDict: Set<String> = ["pop", "popitem", "setdefault", "update", "clear"]

    /// The bound method `name` of `target`, or nil when `target` has no such method.
    static func bound(_ target: Value, _ name: String) throws -> Value? {
        switch target {
        case .string(let s):
            guard stringMethods.contains(name) else { return nil }
            return .callable(Callable("str.\(name)") { args, renderer in try string(s, name, args, renderer) })
        case .dict(let d):
            if unsafeDict.contains(name) {
                throw RenderFailure("access to attribute '\(name)' of 'dict' object is unsafe.")
            }
            guard ["items", "keys", "values", "get", "copy"].contains(name) else { return nil }
            return .callable(
                Callable("dict.\(name)") { args, _ in
                    switch name {
                    case "items": return .list(d.pairs.map { .tuple([$0.key, $0.value]) })
                    case "keys": return .list(d.keys)
                    case "values": return .list(d.values)
                    case "copy": return .dict(d)
                    default:
                        guard let key = args.value(0, "key") else {
                            throw RenderFailure("get expected at least 1 argument, got 0")
                        }
                        return d[key] ?? args.value(1, "default") ?? Value.none
                    }
                })
        case .list(let items), .tuple(let items):
            if case .list = target, unsafeList.contains(name) {
                throw RenderFailure("access to attribute '\(name)' of 'list' object is unsafe.")
            }
            guard name == "index" || name == "count" else { return nil }
            return .callable(
                Callable("list.\(name)") { args, renderer in
                    guard let needle = args.value(0, "value") else {
                        throw RenderFailure("\(name)() takes exactly one argument")
                    }
                    if name == "count" { return .int(try items.filter { try renderer.equal($0, needle) }.count) }
                    guard let i = try items.firstIndex(where: { try renderer.equal($0, needle) }) else {
                        throw RenderFailure("\(PythonText.repr(needle)) is not in list")
                    }
                    return .int(i)
                })
        default:
            return nil
        }
    }

    private static let stringMethods: Set<String> = [
        "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith", "upper", "lower",
        "title",
        "capitalize", "replace", "join", "find", "rfind", "index", "count", "format", "isdigit", "isalpha", "isalnum",
        "isspace", "isupper", "islower", "isnumeric", "swapcase", "zfill", "center", "ljust", "rjust", "removeprefix",
        "removesuffix", "partition", "rpartition",
    ]

    private static func text(_ args: Arguments, _ index: Int, _ name: String, _ method: String) throws -> String? {
        guard let value = args.value(index, name), !value.isNone else { return nil }
        guard case .string(let s) = value else {
            throw RenderFailure("\(method)() argument must be str, not \(value.typeName)")
        }
        return s
    }

    static func pythonStrip(_ s: String, _ chars: String?, leading: Bool, trailing: Bool) -> String {
        let scalars = s.unicodeScalars
        let set = chars.map { Set($0.unicodeScalars) }
        func strip(_ c: Unicode.Scalar) -> Bool { set.map { $0.contains(c) } ?? c.properties.isWhitespace }
        var a = scalars.startIndex
        var b = scalars.endIndex
        if leading { while a < b, strip(scalars[a]) { a = scalars.index(after: a) } }
        if trailing {
            while b > a, strip(scalars[scalars.index(before: b)]) { b = scalars.index(before: b) }
        }
        if a == scalars.startIndex && b == scalars.endIndex { return s }
        return String(scalars[a..<b])
    }

    /// Python's `str.split(sep, maxsplit)`: with no separator, runs of whitespace split and ends are dropped.
    static func pythonSplit(_ s: String, _ separator: String?, _ maxSplit: Int) throws -> [String] {
        var parts: [String] = []
        if let separator {
            guard !separator.isEmpty else { throw RenderFailure("empty separator") }
            let bytes = Array(s.utf8)
            let sep = Array(separator.utf8)
            var start = 0
            for i in ScalarSearch.occurrences(of: sep, in: bytes, limit: maxSplit) {
                parts.append(ScalarSearch.string(bytes[start..<i]))
                start = i + sep.count
            }
            parts.append(ScalarSearch.string(bytes[start...]))
            return parts
        }
        let scalars = Array(s.unicodeScalars)
        var i = 0
        while i < scalars.count {
            while i < scalars.count, scalars[i].properties.isWhitespace { i += 1 }
            guard i < scalars.count else { break }
            if maxSplit >= 0 && parts.count >= maxSplit {
                var end = scalars.count
                while end > i, scalars[end - 1].properties.isWhitespace { end -= 1 }
                parts.append(String(String.UnicodeScalarView(scalars[i..<end])))
                break
            }
            let start = i
            while i < scalars.count, !scalars[i].properties.isWhitespace { i += 1 }
            parts.append(String(String.UnicodeScalarView(scalars[start..<i])))
        }
        return parts
    }

    /// Python's `str.title()`: a letter after a non-letter is upper-cased, other letters lower-cased.
    static func pythonTitle(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for c in s {
            let isLetter = c.isLetter
            out += previousCased ? c.lowercased() : c.uppercased()
            previousCased = isLetter
        }
        return out
    }

    static func pythonCapitalize(_ s: String) -> String {
        guard let first = s.first else { return s }
        return first.uppercased() + s.dropFirst().lowercased()
    }

    static func pythonReplace(_ s: String, _ old: String, _ new: String, _ count: Int, _ renderer: Renderer) throws
        -> String
    {
        if count == 0 { return s }
        if old.isEmpty {
            // Python puts `new` before every code point and at the end (up to `count` times).
            let slots = s.unicodeScalars.count + 1
            try renderer.checkLength(s.utf8.count + min(count < 0 ? slots : count, slots) * new.utf8.count, "a string")
            var out = ""
            var n = 0
            for c in s.unicodeScalars {
                if count < 0 || n < count {
                    out += new
                    n += 1
                }
                out.unicodeScalars.append(c)
            }
            if count < 0 || n < count { out += new }
            return out
        }
        let parts = try pythonSplit(s, old, count < 0 ? -1 : count)
        try renderer.charge(parts.count)
        let estimate = s.utf8.count + (parts.count - 1) * new.utf8.count
        try renderer.checkLength(estimate, "a string")
        return parts.joined(separator: new)
    }

    private static func string(_ s: String, _ name: String, _ args: Arguments, _ renderer: Renderer) throws -> Value {
        // Every string method reads the whole string (and its string arguments): charge that work, so a loop of
        // searches over a long text runs into maxSteps instead of running for minutes.
        try renderer.charge((s.utf8.count + args.positional.reduce(0) { $0 + ($1.stringValue?.utf8.count ?? 0) }) >> 4)
        switch name {
        case "strip", "lstrip", "rstrip":
            let chars = try text(args, 0, "chars", name)
            return .string(pythonStrip(s, chars, leading: name != "rstrip", trailing: name != "lstrip"))
        case "split", "rsplit":
            let separator = try text(args, 0, "sep", name)
            let maxSplit = try args.value(1, "maxsplit").map { try Coerce.int($0, "maxsplit") } ?? -1
            if name == "rsplit" && maxSplit >= 0 {
                // rsplit with a limit splits from the right: reverse, split, reverse.
                let reversedParts = try pythonSplit(
                    String(s.reversed()), separator.map { String($0.reversed()) }, maxSplit)
                return .list(reversedParts.reversed().map { .string(String($0.reversed())) })
            }
            let parts = try pythonSplit(s, separator, maxSplit)
            try renderer.checkCount(parts.count, "a split")
            try renderer.charge(parts.count)
            return .list(parts.map { .string($0) })
        case "splitlines":
            var lines = s.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }).map(String.init)
            if s.last?.isNewline == true { lines.removeLast() }
            return .list(lines.map { .string($0) })
        case "startswith", "endswith":
            guard let arg = args.value(0, "prefix") else { throw RenderFailure("\(name)() takes at least 1 argument") }
            let candidates: [Value]
            if case .tuple(let items) = arg { candidates = items } else { candidates = [arg] }
            for candidate in candidates {
                guard case .string(let c) = candidate else {
                    throw RenderFailure("\(name) first arg must be str or a tuple of str, not \(candidate.typeName)")
                }
                let hit =
                    name == "startswith"
                    ? s.unicodeScalars.starts(with: c.unicodeScalars)
                    : s.unicodeScalars.reversed().starts(with: c.unicodeScalars.reversed())
                if hit { return .bool(true) }
            }
            return .bool(false)
        case "upper": return .string(s.uppercased())
        case "lower": return .string(s.lowercased())
        case "swapcase":
            return .string(String(s.map { $0.isUppercase ? Character($0.lowercased()) : Character($0.uppercased()) }))
        case "title": return .string(pythonTitle(s))
        case "capitalize": return .string(pythonCapitalize(s))
        case "replace":
            guard let old = try text(args, 0, "old", name), let new = try text(args, 1, "new", name) else {
                throw RenderFailure("replace() takes at least 2 arguments")
            }
            let count = try args.value(2, "count").map { try Coerce.int($0, "count") } ?? -1
            return .string(try pythonReplace(s, old, new, count, renderer))
        case "join":
            let items = try Coerce.iterate(args.value(0, "iterable") ?? .list([]), renderer)
            var parts: [String] = []
            for item in items {
                guard case .string(let t) = item else {
                    throw RenderFailure("sequence item \(parts.count): expected str instance, \(item.typeName) found")
                }
                parts.append(t)
            }
            try renderer.checkLength(Self.joinedLength(parts, separator: s), "a string")
            return .string(parts.joined(separator: s))
        case "find", "rfind", "index", "count":
            guard let needle = try text(args, 0, "sub", name) else {
                throw RenderFailure("\(name)() takes at least 1 argument")
            }
            let hay = Array(s.utf8)
            let n = Array(needle.utf8)
            if n.isEmpty {
                // Python: "" occurs before every code point and at the end.
                let length = s.unicodeScalars.count
                switch name {
                case "count": return .int(length + 1)
                case "rfind": return .int(length)
                default: return .int(0)
                }
            }
            if name == "rfind" {
                return .int(
                    ScalarSearch.lastOccurrence(of: n, in: hay).map { ScalarSearch.codePointIndex(hay, $0) } ?? -1)
            }
            let hits = ScalarSearch.occurrences(of: n, in: hay, limit: name == "count" ? -1 : 1)
            switch name {
            case "count": return .int(hits.count)
            case "index":
                guard let first = hits.first else { throw RenderFailure("substring not found") }
                return .int(ScalarSearch.codePointIndex(hay, first))
            default: return .int(hits.first.map { ScalarSearch.codePointIndex(hay, $0) } ?? -1)
            }
        case "format": return .string(try format(s, args, renderer))
        case "isdigit", "isnumeric": return .bool(!s.isEmpty && s.allSatisfy { $0.isNumber })
        case "isalpha": return .bool(!s.isEmpty && s.allSatisfy { $0.isLetter })
        case "isalnum": return .bool(!s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber })
        case "isspace": return .bool(!s.isEmpty && s.allSatisfy { $0.isWhitespace })
        case "isupper": return .bool(s.contains { $0.isCased } && !s.contains { $0.isLowercase })
        case "islower": return .bool(s.contains { $0.isCased } && !s.contains { $0.isUppercase })
        case "zfill", "center", "ljust", "rjust":
            let width = try Coerce.int(args.value(0, "width") ?? .int(0), "width")
            let length = s.unicodeScalars.count
            try renderer.checkLength(width, "a padded string")
            guard width > length else { return .string(s) }
            let fill = try text(args, 1, "fillchar", name) ?? (name == "zfill" ? "0" : " ")
            guard fill.unicodeScalars.count == 1 else {
                throw RenderFailure("The fill character must be exactly one character long")
            }
            let pad = width - length
            switch name {
            case "ljust": return .string(s + String(repeating: fill, count: pad))
            case "rjust": return .string(String(repeating: fill, count: pad) + s)
            case "center":
                let left = pad / 2 + (pad & width & 1)
                return .string(String(repeating: fill, count: left) + s + String(repeating: fill, count: pad - left))
            default:
                if let sign = s.first, sign == "-" || sign == "+" {
                    return .string(String(sign) + String(repeating: "0", count: pad) + s.dropFirst())
                }
                return .string(String(repeating: "0", count: pad) + s)
            }
        case "removeprefix", "removesuffix":
            let affix = try text(args, 0, "prefix", name) ?? ""
            if name == "removeprefix", s.hasPrefix(affix) { return .string(String(s.dropFirst(affix.count))) }
            if name == "removesuffix", !affix.isEmpty, s.hasSuffix(affix) {
                return .string(String(s.dropLast(affix.count)))
            }
            return .string(s)
        case "partition", "rpartition":
            guard let sep = try text(args, 0, "sep", name), !sep.isEmpty else { throw RenderFailure("empty separator") }
            let hay = Array(s.utf8)
            let needle = Array(sep.utf8)
            let at =
                name == "partition"
                ? ScalarSearch.occurrences(of: needle, in: hay, limit: 1).first
                : ScalarSearch.lastOccurrence(of: needle, in: hay)
            guard let at else {
                return name == "partition"
                    ? .tuple([.string(s), .string(""), .string("")]) : .tuple([.string(""), .string(""), .string(s)])
            }
            return .tuple([
                .string(ScalarSearch.string(hay[..<at])), .string(sep),
                .string(ScalarSearch.string(hay[(at + needle.count)...])),
            ])
        default:
            throw RenderFailure("'str' object has no attribute '\(name)'")
        }
    }

    /// The UTF-8 length of `parts.joined(separator:)`, known before anything is built.
    static func joinedLength(_ parts: [String], separator: String) -> Int {
        let total = parts.reduce(0) { $0 + $1.utf8.count }
        let (separators, overflow) = max(parts.count - 1, 0).multipliedReportingOverflow(by: separator.utf8.count)
        return overflow ? Int.max : total.addingReportingOverflow(separators).overflow ? Int.max : total + separators
    }

    /// `str.format` with `{}`, `{0}`, `{name}` and `{{`/`}}` (no format specs beyond an empty one).
    private static func format(_ s: String, _ args: Arguments, _ renderer: Renderer) throws -> String {
        var out = ""
        var automatic = 0
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c == "{" {
                let next = s.index(after: i)
                if next < s.endIndex, s[next] == "{" {
                    out += "{"
                    i = s.index(after: next)
                    continue
                }
                guard let close = s[next...].firstIndex(of: "}") else {
                    throw RenderFailure("Single '{' encountered in format string")
                }
                var field = String(s[next..<close])
                if let colon = field.firstIndex(of: ":") {
                    guard field[field.index(after: colon)...].isEmpty else {
                        throw RenderFailure("format specifications are not supported in chat templates: {\(field)}")
                    }
                    field = String(field[..<colon])
                }
                let value: Value?
                if field.isEmpty {
                    value = automatic < args.positional.count ? args.positional[automatic] : nil
                    automatic += 1
                } else if let index = Int(field) {
                    value = index < args.positional.count ? args.positional[index] : nil
                } else {
                    value = args.keyword.first { $0.0 == field }?.1
                }
                guard let value else {
                    throw RenderFailure("Replacement index \(field) out of range for positional args tuple")
                }
                out += PythonText.str(value)
                try renderer.checkLength(out.utf8.count, "a string")
                i = s.index(after: close)
            } else if c == "}" {
                let next = s.index(after: i)
                guard next < s.endIndex, s[next] == "}" else {
                    throw RenderFailure("Single '}' encountered in format string")
                }
                out += "}"
                i = s.index(after: next)
            } else {
                out.append(c)
                i = s.index(after: i)
            }
        }
        return out
    }
}
