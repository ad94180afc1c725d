import Foundation
import Kernel
import XCTest

/// The Hugging Face golden fixtures (Tests/Fixtures/hf, see its README) and helpers to copy and edit them.
enum HFFixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("hf")

    static let modelNames = ["qwen2-tiny", "llama-tiny", "llama-tiny-bf16-sharded"]

    static func directory(_ name: String) -> URL { root.appendingPathComponent(name) }

    /// reference.json, read with JSONDecoder (JSONSerialization drops some U+FEFF characters).
    static func reference(_ name: String) throws -> ModelReference {
        try JSONDecoder().decode(
            ModelReference.self,
            from: Data(contentsOf: directory(name).appendingPathComponent("reference.json")))
    }

    /// A fresh temporary directory, removed when the test ends.
    static func temporaryDirectory(_ test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hfcausallm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// A copy of fixture `name` (without reference files) in a fresh temporary directory.
    static func copy(_ name: String, _ test: XCTestCase) throws -> URL {
        let target = try temporaryDirectory(test).appendingPathComponent(name)
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: directory(name).path)
        where !file.hasSuffix("reference.json") {
            try FileManager.default.copyItem(
                at: directory(name).appendingPathComponent(file),
                to: target.appendingPathComponent(file))
        }
        return target
    }

    /// Rewrites a JSON object file through `edit`.
    static func editJSON(_ url: URL, _ edit: (inout [String: Any]) -> Void) throws {
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        edit(&object)
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: url)
    }

    /// Rewrites `model.safetensors` in `directory` through `edit` (name -> tensor).
    static func editWeights(_ directory: URL, _ edit: (inout [String: Tensor]) -> Void) throws {
        let url = directory.appendingPathComponent("model.safetensors")
        var tensors = try SafeTensorsFile(url: url).tensorsByName()
        edit(&tensors)
        try SafeTensors.write(tensors, to: url)
    }
}

/// reference.json of a model folder.
struct ModelReference: Decodable {
    struct Greedy: Decodable {
        var max_new_tokens: Int
        var new_ids: [Int32]
        var text: String
        var stopped_at_eos: Bool
    }
    struct Prompt: Decodable {
        var text: String
        var ids: [Int32]
        var logits: [[Float]]
        var greedy: Greedy
    }
    var eos_token_ids: [Int32]
    var prompts: [Prompt]
}
