import ComponentTuning
import HFCausalLM
import Kernel
import LoRA
import LwF
import MoE
import XCTest

/// The strategies on a text-only Hugging Face backbone (the qwen2-tiny fixture): recipes that need a vision
/// tower are clear errors; the decoder recipes, LoRA, LwF and MoE work as on tiny-llava.
final class TextOnlyBackboneTests: XCTestCase {
    func model() throws -> HFCausalLM { try HFCausalLM.load(directory: PEFTGoldenTests.qwen2) }

    func testMultimodalRecipesOnATextOnlyModelAreClearErrors() throws {
        let m = try model()
        for recipe in [ComponentRecipe.vision, .projector] {
            XCTAssertThrowsError(try ComponentTuning(recipe: recipe).prepare(m, stage: Fixture.stage())) { error in
                let text = "\(error)"
                XCTAssertTrue(
                    text.hasPrefix("strategy '\(recipe.name)': recipe '\(recipe.name)' (names starting with "), text)
                XCTAssertTrue(
                    text.contains(
                        "matches nothing in this qwen2 model. Its names look like (N = any index): "
                            + "model.embed_tokens.weight, model.layers.N.input_layernorm.weight, "
                            + "model.layers.N.self_attn.q_proj.weight"), text)
                XCTAssertTrue(text.hasSuffix("model.norm.weight, lm_head.weight."), text)
            }
        }
        XCTAssertThrowsError(try LwF(options: ["trainable": "vision"]).prepare(m, stage: Fixture.stage()))
    }

    func testDecoderRecipesLoRAAndMoEOnQwen2() throws {
        let sa = try model()
        try ComponentTuning(recipe: .saProj).prepare(sa, stage: Fixture.stage())
        XCTAssertEqual(sa.trainableParameters.count, 14, "q/k/v weights and biases and o_proj (no bias) x 2 layers")
        let full = try model()
        try ComponentTuning(recipe: .full).prepare(full, stage: Fixture.stage())
        let llm = try model()
        try ComponentTuning(recipe: .llm).prepare(llm, stage: Fixture.stage())
        XCTAssertEqual(full.trainableParameters.map(\.name), llm.trainableParameters.map(\.name))

        let ids = sa.tokenizer.encode("The quick brown fox")
        let base = PEFTGoldenTests.logits(sa, ids).array
        let moe = try model()
        try MoE().prepare(moe, stage: Fixture.stage())
        XCTAssertEqual(moe.trainableParameters.count, 10)
        XCTAssertEqual(PEFTGoldenTests.logits(moe, ids).array, base)

        let lwf = try model()
        let strategy = try LwF()
        try strategy.prepare(lwf, stage: Fixture.stage())
        let batch = Batch(prompts: [lwf.encodePrompt("Hello", hasImage: false)], answers: [lwf.encodeAnswer(" world")])
        lwf.setTraining(true)
        XCTAssertEqual(
            strategy.loss(lwf, batch: batch, stage: Fixture.stage()).item, answerCrossEntropy(lwf, batch).item)
    }
}
