import Foundation
import HFCausalLM
import Kernel
import XCTest

/// The tiny LLaVA-1.5 and LLaVA-OneVision checkpoints of Tests/Fixtures/hf (make_multimodal_fixtures.py) against
/// what transformers computed with them: expanded ids, logits, OneVision's stitched image features and greedy
/// continuations, for one image, a large image (anyres tiles, unpadding, shrinking) and two images per prompt.
final class HFLLaVAGoldenTests: XCTestCase {
    struct Case: Decodable {
        var prompt: String
        var images: [String]
        var rendered: String
        var image_tokens: [Int]
        var ids: [Int32]
        var logits_shape: [Int]
        var logits_first8: String
        var logits_last4: String
        var greedy: [Int32]
        var features_shape: [Int]?
        var features: String?
    }
    struct Reference: Decodable { var cases: [Case] }

    static let imageDirectory = HFFixtures.root.appendingPathComponent("multimodal_images")

    static func reference(_ name: String) throws -> [Case] {
        try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: HFFixtures.directory(name).appendingPathComponent("reference.json"))
        ).cases
    }

    static func images(_ c: Case) throws -> [Image] {
        try c.images.map { try ImageFile.read(imageDirectory.appendingPathComponent($0)) }
    }

    func check(_ name: String, model: HFLLaVA, file: StaticString = #filePath, line: UInt = #line) throws {
        model.setTraining(false)
        model.useChatTemplate = true
        for c in try Self.reference(name) {
            let images = try Self.images(c)
            let prompt = model.encodePrompt(c.prompt, imageCount: images.count)
            XCTAssertEqual(model.tokenizer.decode(prompt), c.rendered, "\(name) \(c.images)", file: file, line: line)
            let ids = try model.expandImagePlaceholders(prompt, images: images)
            XCTAssertEqual(ids, c.ids, "\(name) \(c.images): expanded ids", file: file, line: line)
            XCTAssertEqual(model.imageTokenCounts(images), c.image_tokens, file: file, line: line)
            // The unexpanded prompt (one placeholder per image) and the expanded ids give the same logits.
            for tokens in [prompt, ids] {
                let logits = imageLogits(model, tokens, images: images)
                let worst = try goldenLogitsError(
                    logits, shape: c.logits_shape, first8: c.logits_first8, last4: c.logits_last4, file: file,
                    line: line)
                XCTAssertLessThan(worst, 1e-4, "\(name) \(c.images): max |Δlogits|", file: file, line: line)
            }
            if let shape = c.features_shape, let features = c.features {
                let mine = Autograd.withNoGrad { model.imageFeatures(images) }[0]
                XCTAssertEqual(mine.shape, shape, file: file, line: line)
                let golden = try goldenFloats(features)
                let worst = zip(golden.indices, golden).map { abs(mine.data[$0.0] - $0.1) }.max() ?? 0
                XCTAssertLessThan(worst, 1e-4, "\(name) \(c.images): max |Δfeatures|", file: file, line: line)
            }
            let generated = model.generate([GenerationRequest(tokens: prompt, images: images)], maxNewTokens: 6)[0]
            // transformers stops at generation_config's eos only; SkillTune also at the tokenizer's end-of-text.
            let stop = c.greedy.firstIndex { model.text.endOfSequenceIDs.contains($0) }
            let expected = stop.map { Array(c.greedy[...$0]) } ?? c.greedy
            XCTAssertEqual(generated, expected, "\(name) \(c.images): greedy", file: file, line: line)
        }
    }

    func testLLaVAInTheHubLayoutBF16ShardsMatchesTransformers() throws {
        let model = try HFLLaVA.load(directory: HFFixtures.directory("llava-tiny"))
        XCTAssertEqual(model.family, "llava")
        XCTAssertTrue(
            model.namedParameters().contains { $0.name == "vision_tower.vision_model.embeddings.class_embedding" })
        // vision_feature_layer -2 of 3: the last layer never runs, so it is no parameter.
        XCTAssertFalse(model.namedParameters().contains { $0.name.contains("encoder.layers.2.") })
        try check("llava-tiny", model: model)
    }

    func testOneVisionAsTransformers5SavesItMatchesTransformers() throws {
        let model = try HFLLaVA.load(directory: HFFixtures.directory("llava-onevision-tiny"))
        XCTAssertEqual(model.family, "llava_onevision")
        XCTAssertTrue(model.configuration.text.decoder.tieWordEmbeddings)
        XCTAssertNotNil(model.parameter("image_newline"))
        try check("llava-onevision-tiny", model: model)
    }

    /// transformers >= 4.52's layout (`model.language_model.*`, `model.vision_tower.vision_model.*`, `lm_head`)
    /// loads to the same parameters.
    func testEveryKeyLayoutLoadsTheSameParameters() throws {
        let base = try HFLLaVA.load(directory: HFFixtures.directory("llava-onevision-tiny"))
        let copy = try HFFixtures.copy("llava-onevision-tiny", self)
        try HFFixtures.editWeights(copy) { tensors in
            var renamed: [String: Tensor] = [:]
            for (k, v) in tensors {
                let name: String
                if k.hasPrefix("language_model.model.") {
                    name = "model.language_model." + k.dropFirst("language_model.model.".count)
                } else if k.hasPrefix("vision_tower.") {
                    name = "model.vision_tower.vision_model." + k.dropFirst("vision_tower.".count)
                } else {
                    name = "model." + k
                }
                renamed[name] = v
            }
            tensors = renamed
        }
        let other = try HFLLaVA.load(directory: copy)
        assertSameParameters(base, other)
        XCTAssertEqual(other.sourceNames["image_newline"], "model.image_newline")
    }
}

/// The random-weight models `bench eval` measures.
final class HFLLaVACreateTests: XCTestCase {
    func testOneVision05BShapeCountsItsFeaturesAsTheProcessorDoes() throws {
        let (config, preprocessor) = try HFLLaVA.oneVision05B()
        XCTAssertEqual(config.vision.patchesPerSide, 27, "384 / 14: SigLIP's convolution drops the last 6 pixels")
        XCTAssertEqual(config.featureLayers, [26])
        XCTAssertEqual(config.text.decoder.layers, 24)
        // A square image: the whole-image tile, one grid tile of 27 x 27 features and 27 newlines.
        XCTAssertEqual(try preprocessor.inputs([Image(width: 384, height: 384)]).imageTokens, [729 + 27 * 28])
    }

    func testCreateMakesARunnableModelOfAConfig() throws {
        let loaded = try HFLLaVA.load(directory: HFFixtures.directory("llava-onevision-tiny"))
        let model = try HFLLaVA.create(config: loaded.configuration, preprocessor: loaded.preprocessor, seed: 1)
        XCTAssertEqual(model.namedParameters().map(\.name), loaded.namedParameters().map(\.name))
        let image = Image(width: 40, height: 30, fill: (10, 200, 30))
        let ids = try model.expandImagePlaceholders([model.imagePlaceholderID, 70, 71], images: [image])
        let logits = imageLogits(model, ids, images: [image])
        XCTAssertEqual(logits.shape, [1, ids.count, 608])
        XCTAssertTrue((0..<logits.count).allSatisfy { logits.data[$0].isFinite })
    }
}

/// The backward pass through the image path (CLIP's class token and quick_gelu, SigLIP, the projector,
/// OneVision's anyres crop, bilinear shrink and `image_newline`) against central differences.
final class HFLLaVAGradientTests: XCTestCase {
    func check(_ name: String, image: String, parameters: [String]) throws {
        try checkImagePathGradients(HFLLaVA.load(directory: HFFixtures.directory(name)), image, parameters, name)
    }

    func testLLaVAImagePathGradients() throws {
        try check(
            "llava-tiny", image: "rgb_37x23.png",
            parameters: [
                "vision_tower.vision_model.embeddings.class_embedding",
                "vision_tower.vision_model.embeddings.patch_embedding.weight",
                "vision_tower.vision_model.pre_layrnorm.weight",
                "vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight",
                "multi_modal_projector.linear_1.weight", "language_model.model.layers.1.mlp.up_proj.weight",
            ])
    }

    func testOneVisionAnyResPathGradients() throws {
        // photo_90x60: six grid tiles, cropped and shrunk bilinearly.
        try check(
            "llava-onevision-tiny", image: "photo_90x60.png",
            parameters: [
                "image_newline", "vision_tower.vision_model.embeddings.patch_embedding.bias",
                "vision_tower.vision_model.embeddings.position_embedding.weight",
                "vision_tower.vision_model.encoder.layers.2.self_attn.k_proj.weight",
                "multi_modal_projector.linear_2.weight",
            ])
    }
}

/// Central differences of the cross-entropy of "What is it?" + "red" with one image against the backward pass,
/// for the named parameters of `model`.
func checkImagePathGradients(
    _ model: some Backbone & ImagePrompting, _ image: String, _ parameters: [String], _ label: String,
    file: StaticString = #filePath, line: UInt = #line
) throws {
    model.setTraining(true)
    let picture = try ImageFile.read(HFLLaVAGoldenTests.imageDirectory.appendingPathComponent(image))
    let prompt = model.encodePrompt("What is it?", imageCount: 1)
    let answer = model.encodeAnswer("red")
    let batch = Batch(
        tokens: prompt + answer, targets: Array(prompt.dropFirst() + answer) + [Batch.ignoreIndex],
        lengths: [prompt.count + answer.count], imageLists: [[picture]], batchSize: 1,
        sequenceLength: prompt.count + answer.count)
    let tensors = model.namedParameters().filter { parameters.contains($0.name) }.map(\.tensor)
    XCTAssertEqual(tensors.count, parameters.count, file: file, line: line)
    let r = GradientCheck.check(
        tensors, step: 1e-2, absoluteTolerance: 2e-3, relativeTolerance: 3e-2, maxElementsPerInput: 12
    ) { _ in
        let out = model.forward(batch)
        return crossEntropy(out.logits.reshaped([-1, model.vocabularySize]), targets: out.targets)
    }
    XCTAssertTrue(r.passed, "\(label): \(r)", file: file, line: line)
}
