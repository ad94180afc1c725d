import Foundation

/// A Hugging Face model directory that cannot be used, with a message that names the file and, when there is
/// one, the key: `/models/qwen/config.json: hidden_size should be an integer, found the string "64"`.
///
/// Problems inside `tokenizer.json` are `TokenizerFileError`s and malformed safetensors files are
/// `SafeTensorsError`s; both name their file the same way.
public struct HFCheckpointError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The file as a path (or the directory, for problems with the directory as a whole).
    public let file: String
    /// The key inside the file (`rope_parameters.rope_type`, a tensor name), or nil.
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
}
