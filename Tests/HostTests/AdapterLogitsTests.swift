import Foundation
import Host
import Kernel
import SkillTuneCLI
import XCTest

/// `skilltune logits --adapter`: a LoRA adapter that PEFT saved (Tests/Fixtures/peft) gives PEFT's logits.
final class AdapterLogitsTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    struct Reference: Decodable {
        struct Prompt: Decodable {
            var ids: [Int32]
            var logits: [[Float]]
        }
        var prompts: [Prompt]
    }
    struct Logits: Decodable {
        var shape: [Int]
        var logits: [[Float]]
    }

    func run(_ arguments: [String]) throws -> String {
        try printedOutput({ ModelCommands.logits(registries: SkillTuneRegistries.builtIn(), output: $0) }, arguments)
    }

    func testLogitsWithAPEFTAdapterMatchPEFT() throws {
        let model = Self.fixtures.appendingPathComponent("hf/qwen2-tiny").path
        let adapter = Self.fixtures.appendingPathComponent("peft/qwen2-tiny-lora").path
        let reference = try JSONDecoder().decode(
            Reference.self,
            from: Data(
                contentsOf: Self.fixtures
                    .appendingPathComponent("peft/qwen2-tiny-lora-reference.json")))
        for prompt in reference.prompts {
            let ids = prompt.ids.map(String.init).joined(separator: ",")
            let out = try JSONDecoder().decode(
                Logits.self, from: Data(try run(["--model", model, "--token-ids", ids, "--adapter", adapter]).utf8))
            XCTAssertEqual(out.shape, [prompt.ids.count, 605])
            let worst = zip(out.logits.joined(), prompt.logits.joined()).map { Swift.abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-4)
            let plain = try JSONDecoder().decode(
                Logits.self, from: Data(try run(["--model", model, "--token-ids", ids]).utf8))
            XCTAssertGreaterThan(
                zip(plain.logits.joined(), prompt.logits.joined()).map { Swift.abs($0 - $1) }.max()!, 1,
                "without --adapter the logits are the base model's")
        }
        XCTAssertThrowsError(try run(["--model", model, "--token-ids", "1", "--adapter", "/no/such/adapter"])) {
            error in
            XCTAssertEqual(
                "\(error)",
                "LoRA adapter /no/such/adapter: adapter_config.json is missing "
                    + "(a PEFT LoRA adapter has adapter_config.json and adapter_model.safetensors)")
        }
    }
}
