import Foundation
import HFCausalLM
import Kernel
import XCTest

/// The tiny Qwen2-VL and Qwen2.5-VL checkpoints of Tests/Fixtures/hf (make_qwen_vl_fixtures.py) against what
/// transformers computed with them: the rendered chat, expanded ids, pixel values and grids, M-RoPE positions and
/// rope deltas, each image's merged features, logits and greedy continuations. The images include ones that
/// smart_resize scales up (min_pixels), down (max_pixels) and rounds, and two images in one prompt; Qwen2.5-VL's
/// tower has windowed blocks with partial windows and one full-attention block.
final class HFQwen2VLGoldenTests: XCTestCase {
    struct Case: Decodable {
        var prompt: String
        var images: [String]
        var rendered: String
        var ids: [Int32]
        var image_grid_thw: [[Int]]
        var image_tokens: [Int]
        var pixel_values_shape: [Int]?
        var position_ids: [[Int]]
        var rope_deltas: Int
        var features_shapes: [[Int]]?
        var features: [String]?
        var logits_shape: [Int]
        var logits_first8: String
        var logits_last4: String
        var greedy: [Int32]
    }
    /// One image alone through the processor.
    struct Processed: Decodable {
        var image: String
        var image_grid_thw: [Int]
        var image_tokens: Int
        var pixel_values_shape: [Int]
        var pixel_values: String
    }
    struct Reference: Decodable {
        var processor: [Processed]
        var cases: [Case]
    }

    static func reference(_ name: String) throws -> Reference {
        try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: HFFixtures.directory(name).appendingPathComponent("reference.json")))
    }

    static func images(_ c: Case) throws -> [Image] {
        try c.images.map { try ImageFile.read(HFLLaVAGoldenTests.imageDirectory.appendingPathComponent($0)) }
    }

    static func worst(_ a: UnsafePointer<Float>, _ b: [Float]) -> Float {
        b.indices.map { abs(a[$0] - b[$0]) }.max() ?? 0
    }

    func check(_ name: String, model: HFQwen2VL, file: StaticString = #filePath, line: UInt = #line) throws {
        model.setTraining(false)
        model.useChatTemplate = true
        let reference = try Self.reference(name)
        for p in reference.processor {
            let image = try ImageFile.read(HFLLaVAGoldenTests.imageDirectory.appendingPathComponent(p.image))
            let inputs = try model.preprocessor.inputs([image])
            XCTAssertEqual(inputs.imageGridTHW, [p.image_grid_thw], "\(name) \(p.image): grid", file: file, line: line)
            XCTAssertEqual(inputs.imageTokens, [p.image_tokens], "\(name) \(p.image)", file: file, line: line)
            XCTAssertEqual(inputs.shape, p.pixel_values_shape, "\(name) \(p.image)", file: file, line: line)
            XCTAssertEqual(
                inputs.pixelValues, try goldenFloats(p.pixel_values), "\(name) \(p.image): pixel values bit for bit",
                file: file, line: line)
        }
        for c in reference.cases {
            let label = "\(name) \(c.images)"
            let images = try Self.images(c)
            let prompt = model.encodePrompt(c.prompt, imageCount: images.count)
            XCTAssertEqual(model.tokenizer.decode(prompt), c.rendered, label, file: file, line: line)
            let ids = try model.expandImagePlaceholders(prompt, images: images)
            XCTAssertEqual(ids, c.ids, "\(label): expanded ids", file: file, line: line)
            XCTAssertEqual(model.imageTokenCounts(images), c.image_tokens, label, file: file, line: line)
            let inputs = try model.preprocessor.inputs(images)
            XCTAssertEqual(inputs.imageGridTHW, c.image_grid_thw, "\(label): grids", file: file, line: line)
            XCTAssertEqual(inputs.shape, c.pixel_values_shape ?? [0, 1176], label, file: file, line: line)
            let rope = try model.ropeIndex(prompt, images: images)
            XCTAssertEqual(rope.positions, c.position_ids, "\(label): M-RoPE positions", file: file, line: line)
            XCTAssertEqual(rope.delta, c.rope_deltas, "\(label): rope delta", file: file, line: line)
            if let shapes = c.features_shapes, let features = c.features {
                let mine = Autograd.withNoGrad { model.imageFeatures(images) }
                XCTAssertEqual(mine.map(\.shape), shapes, label, file: file, line: line)
                for (m, golden) in zip(mine, features) {
                    let worst = Self.worst(m.data, try goldenFloats(golden))
                    XCTAssertLessThan(worst, 1e-4, "\(label): max |Δfeatures|", file: file, line: line)
                }
            }
            // The unexpanded prompt (one placeholder per image) and the expanded ids give the same logits.
            for tokens in [prompt, ids] {
                let logits = imageLogits(model, tokens, images: images)
                let worst = try goldenLogitsError(
                    logits, shape: c.logits_shape, first8: c.logits_first8, last4: c.logits_last4, file: file,
                    line: line)
                XCTAssertLessThan(worst, 1e-4, "\(label): max |Δlogits|", file: file, line: line)
            }
            let generated = model.generate([GenerationRequest(tokens: prompt, images: images)], maxNewTokens: 6)[0]
            let stop = c.greedy.firstIndex { model.text.endOfSequenceIDs.contains($0) }
            XCTAssertEqual(
                generated, stop.map { Array(c.greedy[...$0]) } ?? c.greedy, "\(label): greedy", file: file, line: line)
        }
    }

    func testQwen2VLInTheHubLayoutBF16ShardsMatchesTransformers() throws {
        let model = try HFQwen2VL.load(directory: HFFixtures.directory("qwen2-vl-tiny"))
        XCTAssertEqual(model.family, "qwen2_vl")
        XCTAssertEqual(model.configuration.text.decoder.ropeSections, [2, 3, 3])
        XCTAssertFalse(model.configuration.text.decoder.tieWordEmbeddings)
        XCTAssertTrue(model.namedParameters().contains { $0.name == "visual.blocks.1.mlp.fc2.bias" })
        try check("qwen2-vl-tiny", model: model)
    }

    func testQwen25VLAsTransformers5SavesItMatchesTransformers() throws {
        let model = try HFQwen2VL.load(directory: HFFixtures.directory("qwen2.5-vl-tiny"))
        XCTAssertEqual(model.family, "qwen2_5_vl")
        XCTAssertTrue(model.configuration.text.decoder.tieWordEmbeddings)
        XCTAssertEqual(model.configuration.vision.fullAttentionBlocks, [1])
        XCTAssertEqual(model.sourceNames["visual.merger.ln_q.weight"], "model.visual.merger.ln_q.weight")
        XCTAssertTrue(model.namedParameters().contains { $0.name == "visual.blocks.2.mlp.gate_proj.bias" })
        try check("qwen2.5-vl-tiny", model: model)
    }

    /// Several prompts generated together (left padding, each with its own rope delta) give what each gives alone.
    func testBatchedGenerationEqualsOneByOne() throws {
        let model = try HFQwen2VL.load(directory: HFFixtures.directory("qwen2.5-vl-tiny"))
        model.setTraining(false)
        model.useChatTemplate = true
        let requests = try Self.reference("qwen2.5-vl-tiny").cases.map { c in
            GenerationRequest(
                tokens: model.encodePrompt(c.prompt, imageCount: c.images.count), images: try Self.images(c))
        }
        let together = model.generate(requests, maxNewTokens: 5)
        let alone = requests.map { model.generate([$0], maxNewTokens: 5)[0] }
        XCTAssertEqual(together, alone)
    }

    /// The Hub's original layout (`model.*`, `visual.*`) and transformers >= 4.52's (`model.language_model.*`,
    /// `model.visual.*`) load to the same parameters.
    func testEitherKeyLayoutLoadsTheSameParameters() throws {
        let base = try HFQwen2VL.load(directory: HFFixtures.directory("qwen2.5-vl-tiny"))
        let copy = try HFFixtures.copy("qwen2.5-vl-tiny", self)
        try HFFixtures.editWeights(copy) { tensors in
            var renamed: [String: Tensor] = [:]
            for (k, v) in tensors {
                if k.hasPrefix("model.language_model.") {
                    renamed["model." + k.dropFirst("model.language_model.".count)] = v
                } else if k.hasPrefix("model.visual.") {
                    renamed["visual." + k.dropFirst("model.visual.".count)] = v
                } else {
                    renamed[k] = v
                }
            }
            tensors = renamed
        }
        let other = try HFQwen2VL.load(directory: copy)
        assertSameParameters(base, other)
        XCTAssertEqual(other.sourceNames["visual.merger.ln_q.weight"], "visual.merger.ln_q.weight")
    }
}

/// The backward pass through Qwen2-VL's image path (the patch embedding, 2D rotary attention within windows and
/// images, the merger, M-RoPE) against central differences.
final class HFQwen2VLGradientTests: XCTestCase {
    func check(_ name: String, image: String, parameters: [String]) throws {
        try checkImagePathGradients(HFQwen2VL.load(directory: HFFixtures.directory(name)), image, parameters, name)
    }

    func testQwen2VLImagePathGradients() throws {
        try check(
            "qwen2-vl-tiny", image: "rgb_37x23.png",
            parameters: [
                "visual.patch_embed.proj.weight", "visual.blocks.0.norm1.bias", "visual.blocks.0.attn.qkv.weight",
                "visual.blocks.1.mlp.fc1.weight", "visual.merger.ln_q.weight", "visual.merger.mlp.0.weight",
                "model.layers.0.self_attn.k_proj.weight",
            ])
    }

    func testQwen25VLWindowedImagePathGradients() throws {
        try check(
            "qwen2.5-vl-tiny", image: "gradient_200x120.png",
            parameters: [
                "visual.patch_embed.proj.weight", "visual.blocks.0.attn.qkv.bias", "visual.blocks.1.attn.proj.weight",
                "visual.blocks.2.mlp.gate_proj.weight", "visual.merger.mlp.2.weight",
                "model.layers.1.self_attn.q_proj.weight",
            ])
    }
}
