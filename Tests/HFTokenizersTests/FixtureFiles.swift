import Foundation
import XCTest

/// The shared Hugging Face fixtures (Tests/Fixtures/hf, made by make_fixtures.py) and helpers to read them.
///
/// Recorded texts are read with `JSONDecoder`, not `JSONSerialization`: the latter (swift-corelibs-foundation)
/// drops a U+FEFF that starts a string or follows an escape, and the fixtures contain such strings.
enum FixtureFiles {
    static let hfDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("hf")

    static func directory(_ name: String) -> URL { hfDirectory.appendingPathComponent(name) }

    static func decode<T: Decodable>(_ type: T.Type, _ url: URL) throws -> T {
        try JSONDecoder().decode(type, from: try Data(contentsOf: url))
    }

    /// A JSON file as loosely typed objects (only for files without such strings, e.g. to patch a tokenizer.json).
    static func jsonObject(_ url: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: url)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], url.path)
    }

    /// A fresh temporary directory, removed when the test ends.
    static func temporaryDirectory(_ test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hftok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

/// tokenizer_reference.json (see Tests/Fixtures/hf/README.md).
struct TokenizerReference: Decodable {
    struct Encoding: Decodable {
        var text: String
        var ids: [Int32]
        var decoded: String?
    }
    struct Decoding: Decodable {
        var label: String
        var ids: [Int32]
        var text: String
    }
    var vocabulary_size: Int
    var end_of_sequence_ids: [Int32]
    var encodings: [Encoding]
    var decodes: [Decoding]
    var token_texts: [String]
    var fuzz_encodings: [Encoding]
}

/// The recorded encodings of tokenizer_variants.json (the patches themselves are read as loose JSON).
struct TokenizerVariants: Decodable {
    struct Variant: Decodable {
        var name: String
        var encodings: [TokenizerReference.Encoding]
    }
    var base: String
    var variants: [Variant]
}
