import Foundation
import Host
import Kernel
import SkillTuneCLI
import XCTest

/// `skilltune logits|generate --model DIR --image FILE --prompt TEXT --chat --json` on the tiny LLaVA-1.5,
/// LLaVA-OneVision, Qwen2-VL and Qwen2.5-VL checkpoints of Tests/Fixtures/hf, against transformers' ids, logits and
/// greedy tokens (make_multimodal_fixtures.py, make_qwen_vl_fixtures.py).
final class ImageCommandsTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("hf")

    struct Case: Decodable {
        var prompt: String
        var images: [String]
        var ids: [Int32]
        var logits_shape: [Int]
        var logits_first8: String
        var logits_last4: String
        var greedy: [Int32]
    }
    struct Reference: Decodable { var cases: [Case] }
    struct Logits: Decodable {
        var ids: [Int32]
        var shape: [Int]
        var logits: [[Float]]
    }
    struct Generation: Decodable {
        var ids: [Int32]
        var text: String
    }

    let registries = SkillTuneRegistries.builtIn()

    func floats(_ base64: String) throws -> [Float] {
        let bytes = [UInt8](try XCTUnwrap(Data(base64Encoded: base64)))
        return bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    func arguments(_ model: String, _ c: Case) -> [String] {
        ["--model", Self.fixtures.appendingPathComponent(model).path, "--prompt", c.prompt, "--chat", "--json"]
            + c.images.flatMap { ["--image", Self.fixtures.appendingPathComponent("multimodal_images/\($0)").path] }
    }

    func testLogitsAndGenerateWithImagesMatchTransformers() throws {
        for model in ["llava-tiny", "llava-onevision-tiny", "qwen2-vl-tiny", "qwen2.5-vl-tiny"] {
            let reference = try JSONDecoder().decode(
                Reference.self,
                from: Data(contentsOf: Self.fixtures.appendingPathComponent("\(model)/reference.json")))
            for c in reference.cases {
                let out = try printedOutput(
                    { ModelCommands.logits(registries: self.registries, output: $0) }, arguments(model, c))
                let parsed = try JSONDecoder().decode(Logits.self, from: Data(out.utf8))
                XCTAssertEqual(parsed.ids, c.ids, "\(model) \(c.images)")
                XCTAssertEqual(parsed.shape, c.logits_shape)
                let (t, v) = (c.logits_shape[0], c.logits_shape[1])
                let first8 = try floats(c.logits_first8)
                let last4 = try floats(c.logits_last4)
                var worst: Float = 0
                for p in 0..<t { for j in 0..<8 { worst = max(worst, abs(parsed.logits[p][j] - first8[p * 8 + j])) } }
                for p in 0..<4 {
                    for j in 0..<v { worst = max(worst, abs(parsed.logits[t - 4 + p][j] - last4[p * v + j])) }
                }
                XCTAssertLessThan(worst, 1e-4, "\(model) \(c.images)")

                let generated = try JSONDecoder().decode(
                    Generation.self,
                    from: Data(
                        try printedOutput(
                            { ModelCommands.generate(registries: self.registries, output: $0) },
                            arguments(model, c) + ["--max-new-tokens", "6"]
                        ).utf8))
                // transformers stops at generation_config's eos (602) only; SkillTune also at <|endoftext|> (600).
                let stop = c.greedy.firstIndex { $0 == 600 || $0 == 602 }
                XCTAssertEqual(generated.ids, stop.map { Array(c.greedy[...$0]) } ?? c.greedy, "\(model) \(c.images)")
            }
        }
    }

    func testPlaceholdersAndImagesMustPairUp() throws {
        let model = Self.fixtures.appendingPathComponent("llava-tiny").path
        let image = Self.fixtures.appendingPathComponent("multimodal_images/rgb_37x23.png").path
        // Two placeholders in the ids, one image.
        XCTAssertThrowsError(
            try printedOutput(
                { ModelCommands.logits(registries: self.registries, output: $0) },
                ["--model", model, "--token-ids", "605,12,605", "--image", image])
        ) { error in
            XCTAssertTrue("\(error)".contains("2 image placeholder(s) but 1 image(s)"), "\(error)")
        }
        // A prompt that already has its placeholder gets no second one.
        let out = try printedOutput(
            { ModelCommands.logits(registries: self.registries, output: $0) },
            ["--model", model, "--prompt", "<image>\nWhat is it?", "--image", image])
        let ids = try JSONDecoder().decode(Logits.self, from: Data(out.utf8)).ids
        XCTAssertEqual(ids.filter { $0 == 605 }.count, 16)
        XCTAssertThrowsError(
            try printedOutput(
                { ModelCommands.logits(registries: self.registries, output: $0) },
                ["--model", model, "--prompt", "a", "--image", "/no/such.png"]))
    }
}
