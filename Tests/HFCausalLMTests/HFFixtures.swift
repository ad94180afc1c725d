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

/// The logits [1, T, vocab] of one row of `ids` with `images` (no gradient).
func imageLogits(_ model: any Backbone, _ ids: [Int32], images: [Image]) -> Tensor {
    Autograd.withNoGrad {
        model.forward(
            Batch(
                tokens: ids, targets: ids, lengths: [ids.count], imageLists: [images], batchSize: 1,
                sequenceLength: ids.count)
        ).logits
    }
}

/// Two models have the same parameter names, in order, and the same values bit for bit.
func assertSameParameters(_ a: Module, _ b: Module, file: StaticString = #filePath, line: UInt = #line) {
    let x = a.namedParameters()
    let y = b.namedParameters()
    XCTAssertEqual(x.map(\.name), y.map(\.name), file: file, line: line)
    for (p, q) in zip(x, y) {
        XCTAssertEqual(
            Array(UnsafeBufferPointer(start: p.tensor.data, count: p.tensor.count)),
            Array(UnsafeBufferPointer(start: q.tensor.data, count: q.tensor.count)), p.name, file: file, line: line)
    }
}

/// The largest difference of `logits` [1, T, V] from a golden reference stored as the first 8 logits of every
/// position and all logits of the last 4 (base64 float32), after checking the shape.
func goldenLogitsError(
    _ logits: Tensor, shape: [Int], first8: String, last4: String, file: StaticString = #filePath, line: UInt = #line
) throws -> Float {
    let (t, v) = (shape[0], shape[1])
    XCTAssertEqual(logits.shape, [1, t, v], file: file, line: line)
    let head = try goldenFloats(first8)
    let tail = try goldenFloats(last4)
    var worst: Float = 0
    for p in 0..<t {
        for j in 0..<8 { worst = max(worst, abs(logits.data[p * v + j] - head[p * 8 + j])) }
    }
    for i in tail.indices { worst = max(worst, abs(logits.data[(t - 4) * v + i] - tail[i])) }
    return worst
}
