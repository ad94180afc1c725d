import Foundation
import Kernel

/// Typed access to a JSON object read with `JSONSerialization`, turning every problem into an
/// `HFCheckpointError` that names the file and the dotted key (`rope_parameters.rope_theta`).
struct ConfigJSON {
    let file: String
    /// Dotted path of this object inside the file ("" for the root).
    let path: String
    let values: [String: Any]

    /// Parses `data` (a leading UTF-8 byte order mark is dropped) as a JSON object.
    static func parse(_ data: Data, file: String) throws -> ConfigJSON {
        var bytes = data
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        let root: Any
        do {
            try JSONNesting.check(Data(bytes), file: file)
            root = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw HFCheckpointError(file: file, key: nil, message: "not valid JSON (\(error.localizedDescription))")
        }
        guard let object = root as? [String: Any] else {
            throw HFCheckpointError(file: file, key: nil, message: "should hold a JSON object, found \(describe(root))")
        }
        return ConfigJSON(file: file, path: "", values: object)
    }

    /// Reads and parses the file at `url`; a missing file is an error naming it.
    static func read(_ url: URL, purpose: String) throws -> ConfigJSON {
        try parse(contents(of: url, purpose: purpose), file: url.path)
    }

    /// `config.json` of a model directory.
    static func modelConfig(in directory: URL) throws -> ConfigJSON {
        try read(
            directory.appendingPathComponent("config.json"),
            purpose: "every Hugging Face model directory has a config.json")
    }

    /// The bytes of the file at `url`, for readers that parse them more than one way; a missing or unreadable
    /// file is an error naming it and `purpose`.
    static func contents(of url: URL, purpose: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw HFCheckpointError(file: url.path, key: nil, message: "file not found (\(purpose))")
        }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw HFCheckpointError(
                file: url.path, key: nil, message: "cannot read the file (\(error.localizedDescription))")
        }
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw value of `key`; nil when absent or JSON null.
    func value(_ key: String) -> Any? {
        guard let v = values[key], !Self.isNull(v) else { return nil }
        return v
    }

    func has(_ key: String) -> Bool { value(key) != nil }

    func wrongType(_ key: String, expected: String, found: Any) -> HFCheckpointError {
        HFCheckpointError(
            file: file, key: keyPath(key),
            message: "\(keyPath(key)) should be \(expected), found \(Self.describe(found))")
    }

    func invalid(_ key: String, _ why: String) -> HFCheckpointError {
        HFCheckpointError(file: file, key: keyPath(key), message: "\(keyPath(key)) \(why)")
    }

    func missing(_ key: String, _ why: String = "") -> HFCheckpointError {
        HFCheckpointError(file: file, key: keyPath(key), message: "missing \(keyPath(key))" + why)
    }

    /// A whole number (JSON `64` or `64.0`, not `"64"` and not `true`).
    func optionalInt(_ key: String) throws -> Int? {
        guard let v = value(key) else { return nil }
        guard let n = v as? NSNumber, !Self.isBoolean(v), let whole = Int(exactly: n.doubleValue) else {
            throw wrongType(key, expected: "an integer", found: v)
        }
        return whole
    }

    /// A list of whole numbers (`[16, 24, 24]`), at most `limit` long.
    func optionalIntList(_ key: String, limit: Int = 4096) throws -> [Int]? {
        guard let v = value(key) else { return nil }
        guard let list = v as? [Any], list.count <= limit else {
            throw wrongType(key, expected: "a list of at most \(limit) integers", found: v)
        }
        return try list.map { item in
            guard let n = item as? NSNumber, !Self.isBoolean(item), let whole = Int(exactly: n.doubleValue) else {
                throw wrongType(key, expected: "a list of integers", found: v)
            }
            return whole
        }
    }

    func int(_ key: String) throws -> Int {
        guard let v = try optionalInt(key) else { throw missing(key) }
        return v
    }

    func optionalDouble(_ key: String) throws -> Double? {
        guard let v = value(key) else { return nil }
        guard let n = v as? NSNumber, !Self.isBoolean(v), n.doubleValue.isFinite else {
            throw wrongType(key, expected: "a number", found: v)
        }
        return n.doubleValue
    }

    func optionalBool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        guard Self.isBoolean(v), let b = v as? Bool else { throw wrongType(key, expected: "true or false", found: v) }
        return b
    }

    func optionalString(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v as? String else { throw wrongType(key, expected: "a string", found: v) }
        return s
    }

    func optionalObject(_ key: String) throws -> ConfigJSON? {
        guard let v = value(key) else { return nil }
        guard let o = v as? [String: Any] else { throw wrongType(key, expected: "an object", found: v) }
        return ConfigJSON(file: file, path: keyPath(key), values: o)
    }

    /// A token id or a list of them (`eos_token_id: 2` or `[2, 7]`); empty when absent.
    func tokenIDs(_ key: String) throws -> [Int32] {
        guard let v = value(key) else { return [] }
        let items = (v as? [Any]) ?? [v]
        return try items.map { item in
            guard let n = item as? NSNumber, !Self.isBoolean(item), let id = Int32(exactly: n.doubleValue), id >= 0
            else {
                throw wrongType(key, expected: "a token id or a list of token ids", found: v)
            }
            return id
        }
    }

    // MARK: Loosely typed values

    /// Compares the dynamic type, so that a large array is not bridged just to be tested.
    static func isNull(_ value: Any) -> Bool { type(of: value) == NSNull.self }

    /// JSON `true`/`false` arrive as NSNumber like numbers; their Objective-C type is `c`.
    static func isBoolean(_ value: Any) -> Bool {
        guard let n = value as? NSNumber else { return false }
        return n.objCType.pointee == CChar(UInt8(ascii: "c"))
    }

    static func describe(_ value: Any) -> String {
        if isNull(value) { return "null" }
        if isBoolean(value), let b = value as? Bool { return b ? "true" : "false" }
        if let s = value as? String { return "the string \"\(s.count > 40 ? String(s.prefix(40)) + "..." : s)\"" }
        if let n = value as? NSNumber { return "the number \(n)" }
        if value is [Any] { return "a list" }
        if value is [String: Any] { return "an object" }
        return "\(type(of: value))"
    }
}
