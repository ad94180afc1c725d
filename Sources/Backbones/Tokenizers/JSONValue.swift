import Foundation
import Kernel

/// Typed, key-path-aware access to a JSON object parsed by `JSONSerialization`, so that every problem becomes a
/// `TokenizerFileError` naming the file and the dotted key (`pre_tokenizer.pretokenizers[1].type`).
struct JSONObject {
    let file: String
    /// Dotted path of this object inside the file ("" for the root).
    let path: String
    let values: [String: Any]

    init(file: String, path: String, values: [String: Any]) {
        self.file = file
        self.path = path
        self.values = values
    }

    /// Parses `data` as a JSON object.
    static func parse(_ data: Data, file: String) throws -> JSONObject {
        let root: Any
        do {
            try JSONNesting.check(data, file: file)
            root = try JSONSerialization.jsonObject(with: escapingByteOrderMarks(data), options: [])
        } catch {
            throw TokenizerFileError(file: file, key: nil, message: "not valid JSON (\(error.localizedDescription))")
        }
        guard let object = root as? [String: Any] else {
            throw TokenizerFileError(
                file: file, key: nil, message: "should hold a JSON object, found \(JSONValue.describe(root))")
        }
        return JSONObject(file: file, path: "", values: object)
    }

    /// `JSONSerialization` (swift-corelibs-foundation) drops a raw U+FEFF that starts a string or follows an
    /// escape; written as the escape `\ufeff` it survives. A byte order mark at the very start is removed.
    static func escapingByteOrderMarks(_ data: Data) -> Data {
        let mark: [UInt8] = [0xEF, 0xBB, 0xBF]
        guard data.range(of: Data(mark)) != nil else { return data }
        var bytes = [UInt8](data)
        if bytes.starts(with: mark) { bytes.removeFirst(3) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 64)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0xEF && i + 2 < bytes.count && bytes[i + 1] == 0xBB && bytes[i + 2] == 0xBF {
                out.append(contentsOf: Array("\\ufeff".utf8))
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return Data(out)
    }

    /// The dotted path of `key` in this object.
    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw value of `key`; nil when absent or JSON null.
    func value(_ key: String) -> Any? {
        guard let v = values[key], !JSONValue.isNull(v) else { return nil }
        return v
    }

    func has(_ key: String) -> Bool { value(key) != nil }

    func requiredValue(_ key: String) throws -> Any {
        guard let v = value(key) else { throw TokenizerFileError.missing(file, keyPath(key)) }
        return v
    }

    func string(_ key: String) throws -> String {
        let v = try requiredValue(key)
        guard let s = v as? String else {
            throw TokenizerFileError.wrongType(file, keyPath(key), expected: "a string", found: v)
        }
        return s
    }

    func optionalString(_ key: String) throws -> String? {
        guard has(key) else { return nil }
        return try string(key)
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let v = value(key) else { return fallback }
        guard JSONValue.isBoolean(v), let b = v as? Bool else {
            throw TokenizerFileError.wrongType(file, keyPath(key), expected: "true or false", found: v)
        }
        return b
    }

    func object(_ key: String) throws -> JSONObject {
        let v = try requiredValue(key)
        guard let o = v as? [String: Any] else {
            throw TokenizerFileError.wrongType(file, keyPath(key), expected: "an object", found: v)
        }
        return JSONObject(file: file, path: keyPath(key), values: o)
    }

    func optionalObject(_ key: String) throws -> JSONObject? {
        guard has(key) else { return nil }
        return try object(key)
    }

    func array(_ key: String) throws -> [Any] {
        let v = try requiredValue(key)
        guard let a = v as? [Any] else {
            throw TokenizerFileError.wrongType(file, keyPath(key), expected: "a list", found: v)
        }
        return a
    }

    /// The elements of the list `key` that must be objects, each with its own path (`key[i]`).
    func objects(_ key: String) throws -> [JSONObject] {
        try array(key).enumerated().map { index, element in
            let elementPath = "\(keyPath(key))[\(index)]"
            guard let o = element as? [String: Any] else {
                throw TokenizerFileError.wrongType(file, elementPath, expected: "an object", found: element)
            }
            return JSONObject(file: file, path: elementPath, values: o)
        }
    }
}

/// Helpers for loosely typed `JSONSerialization` values.
enum JSONValue {
    /// True for JSON null. Compares the dynamic type: `value is NSNull` would first bridge a Swift array or
    /// dictionary (a whole vocabulary) to its Foundation class.
    static func isNull(_ value: Any) -> Bool {
        type(of: value) == NSNull.self
    }

    /// True for JSON `true`/`false` (Foundation hands them out as NSNumber, like numbers).
    static func isBoolean(_ value: Any) -> Bool {
        guard let n = value as? NSNumber else { return false }
        return n.objCType.pointee == CChar(UInt8(ascii: "c"))
    }

    /// The value as an Int32 token id, or nil if it is not a whole number in range.
    static func tokenID(_ value: Any) -> Int32? {
        guard let n = value as? NSNumber, !isBoolean(n) else { return nil }
        let whole = n.int64Value
        guard whole >= 0, whole <= Int64(Int32.max), Double(whole) == n.doubleValue else { return nil }
        return Int32(whole)
    }

    /// A short description of a JSON value for error messages.
    static func describe(_ value: Any) -> String {
        if isNull(value) { return "null" }
        if isBoolean(value), let b = value as? Bool { return b ? "true" : "false" }
        if let s = value as? String {
            let shown = s.count > 40 ? String(s.prefix(40)) + "..." : s
            return "the string \"\(shown)\""
        }
        if let n = value as? NSNumber { return "the number \(n)" }
        if value is [Any] { return "a list" }
        if value is [String: Any] { return "an object" }
        return "\(type(of: value))"
    }
}
