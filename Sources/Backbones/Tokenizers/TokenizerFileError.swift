import Foundation

/// A `tokenizer.json` (or its `tokenizer_config.json`) that cannot be used, with a message that names the file and
/// the key, e.g. `tokenizer.json: model.type is "WordPiece"; supported: BPE`.
public struct TokenizerFileError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The file as it was given (a path or a bare file name).
    public let file: String
    /// The dotted key inside the file (`model.merges[12]`), or nil for problems with the file as a whole.
    public let key: String?
    /// What is wrong, starting with the key when there is one.
    public let message: String

    public init(file: String, key: String?, message: String) {
        self.file = file
        self.key = key
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
    public var errorDescription: String? { description }

    // MARK: Common shapes of the message

    static func missing(_ file: String, _ key: String) -> TokenizerFileError {
        TokenizerFileError(file: file, key: key, message: "missing \(key)")
    }

    static func wrongType(_ file: String, _ key: String, expected: String, found: Any) -> TokenizerFileError {
        TokenizerFileError(
            file: file, key: key, message: "\(key) should be \(expected), found \(JSONValue.describe(found))")
    }

    static func unsupported(_ file: String, _ key: String, value: String, supported: [String]) -> TokenizerFileError {
        TokenizerFileError(
            file: file, key: key,
            message: "\(key) is \"\(value)\"; supported: \(supported.joined(separator: ", "))")
    }

    static func invalid(_ file: String, _ key: String, _ why: String) -> TokenizerFileError {
        TokenizerFileError(file: file, key: key, message: "\(key) \(why)")
    }
}
