import Foundation

/// A depth check to run before handing JSON to Foundation.
///
/// Foundation's `JSONDecoder` (swift-foundation in the Swift 6 toolchains) traps, instead of throwing, on a
/// document that ends right after reaching its nesting limit of 512 (`{"a":` followed by 512 `[`): computing
/// the error's source location fails. Every file SkillTune decodes with Foundation goes through this check
/// first; no real config, tokenizer or result file comes near the limit.
public enum JSONNesting {
    /// Deeper documents are refused.
    public static let limit = 256

    /// The deepest nesting of arrays and objects in `data` (brackets inside strings do not count).
    public static func depth(of data: Data) -> Int {
        data.withUnsafeBytes { raw -> Int in
            var depth = 0
            var deepest = 0
            var inString = false
            var escaped = false
            for byte in raw {
                if inString {
                    if escaped {
                        escaped = false
                    } else if byte == UInt8(ascii: "\\") {
                        escaped = true
                    } else if byte == UInt8(ascii: "\"") {
                        inString = false
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                    deepest = max(deepest, depth)
                case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
                default: break
                }
            }
            return deepest
        }
    }

    /// Throws `JSONNestingError` when `data` nests deeper than `limit`; `file` names it in the message.
    public static func check(_ data: Data, file: String) throws {
        let deepest = depth(of: data)
        if deepest > limit { throw JSONNestingError(file: file, depth: deepest, limit: limit) }
    }

    /// `JSONDecoder().decode` after the depth check.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, file: String) throws -> T {
        try check(data, file: file)
        return try JSONDecoder().decode(type, from: data)
    }
}

/// A JSON document nested too deeply to be read safely.
public struct JSONNestingError: Error, CustomStringConvertible, LocalizedError {
    public var file: String
    public var depth: Int
    public var limit: Int
    public var description: String { "\(file): JSON nested \(depth) levels deep; at most \(limit) are accepted" }
    public var errorDescription: String? { description }
}
