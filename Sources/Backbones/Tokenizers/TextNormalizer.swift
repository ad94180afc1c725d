import Foundation

/// The `normalizer` of a `tokenizer.json`: NFC, or a `Sequence` of supported normalizers (absent or null means
/// none). Unicode NFC comes from Foundation (`precomposedStringWithCanonicalMapping`).
indirect enum TextNormalizer {
    case nfc
    case sequence([TextNormalizer])

    static let supportedTypes = ["NFC", "Sequence"]

    /// Reads the normalizer at `json` (nil when the file has none).
    static func parse(_ json: JSONObject) throws -> TextNormalizer {
        let type = try json.string("type")
        switch type {
        case "NFC":
            return .nfc
        case "Sequence":
            return .sequence(try json.objects("normalizers").map(parse))
        default:
            throw TokenizerFileError.unsupported(
                json.file, json.keyPath("type"), value: type, supported: supportedTypes)
        }
    }

    func apply(_ text: String) -> String {
        switch self {
        case .nfc:
            return text.precomposedStringWithCanonicalMapping
        case .sequence(let steps):
            return steps.reduce(text) { $1.apply($0) }
        }
    }
}
