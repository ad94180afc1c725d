import Foundation
import HFCausalLM
import Kernel
import XCTest

/// `HFQwen2VL.qwen25VL3B()` (the shape `bench eval --config qwen2.5-vl-3b` measures) and `HFQwen2VL.create`.
final class HFQwen2VLCreateTests: XCTestCase {
    func testQwen25VL3BShapeAndItsImageTokens() throws {
        let (config, preprocessor) = try HFQwen2VL.qwen25VL3B()
        XCTAssertEqual(config.modelType, "qwen2_5_vl")
        XCTAssertEqual(config.imageTokenID, 151_655)
        let d = config.text.decoder
        XCTAssertEqual(
            [d.hiddenSize, d.intermediateSize, d.layers, d.heads, d.kvHeads, d.vocabularySize],
            [2048, 11008, 36, 16, 2, 151_936])
        XCTAssertTrue(d.tieWordEmbeddings)
        XCTAssertTrue(d.attentionBias)
        XCTAssertEqual(d.ropeTheta, 1_000_000)
        XCTAssertEqual(d.ropeSections, [16, 24, 24])
        let v = config.vision
        XCTAssertEqual(v.kind, .qwen25VL)
        XCTAssertEqual(
            [v.depth, v.width, v.intermediateSize, v.heads, v.outputWidth, v.patchSize, v.temporalPatchSize],
            [32, 1280, 3420, 16, 2048, 14, 2])
        XCTAssertEqual(v.mergeSize, 2)
        XCTAssertEqual(v.windowSize, 112)
        XCTAssertEqual(v.fullAttentionBlocks, [7, 15, 23, 31])
        // transformers counts 3,754,622,976 parameters in Qwen2_5_VLForConditionalGeneration of this config; the
        // memory check's estimate is an upper bound (it counts the tower's norms as LayerNorms, with biases).
        let estimate = Double(config.float32ParameterBytes) / 4
        XCTAssertGreaterThanOrEqual(estimate, 3_754_622_976)
        XCTAssertLessThan(estimate, 3_754_622_976 * 1.0001)
        guard case .qwen2VL(let processor) = preprocessor.kind else { return XCTFail("not Qwen2-VL's processor") }
        XCTAssertEqual(processor.minPixels, 3136)
        XCTAssertEqual(processor.maxPixels, 12_845_056)
        XCTAssertEqual(processor.filter, .bicubic)
        XCTAssertEqual(processor.mean, ImageProcessor.clipMean)
        XCTAssertEqual(processor.std, ImageProcessor.clipStd)
        // 448 = 16 x 28 is kept as it is: 32 x 32 patches, merged 2 x 2 into 256 features.
        XCTAssertEqual(try preprocessor.imageTokens([Image(width: 448, height: 448)]), [256])
        XCTAssertEqual(try preprocessor.imageGrids([Image(width: 448, height: 448)]), [[1, 32, 32]])
    }

    func testCreateMakesARunnableModelOfAConfig() throws {
        let loaded = try HFQwen2VL.load(directory: HFFixtures.directory("qwen2.5-vl-tiny"))
        let model = try HFQwen2VL.create(config: loaded.configuration, preprocessor: loaded.preprocessor, seed: 1)
        XCTAssertEqual(model.namedParameters().map(\.name), loaded.namedParameters().map(\.name))
        XCTAssertEqual(model.parameterCounts.total, loaded.parameterCounts.total)
        model.setTraining(false)
        let image = Image(width: 60, height: 40, fill: (10, 200, 30))
        let ids = try model.expandImagePlaceholders([model.imagePlaceholderID, 70, 71], images: [image])
        XCTAssertGreaterThan(ids.count, 3)
        let logits = imageLogits(model, ids, images: [image])
        XCTAssertEqual(logits.shape, [1, ids.count, 612])
        XCTAssertTrue((0..<logits.count).allSatisfy { logits.data[$0].isFinite })
        // Greedy generation with the image, as `bench eval` runs it: exactly the tokens asked for without stops.
        var steps = 0
        let out = model.generate([GenerationRequest(tokens: ids, images: [image])], maxNewTokens: 4) { _, _ in
            steps += 1
        }
        XCTAssertEqual(out[0].count, steps)
        XCTAssertTrue((1...4).contains(steps))
    }
}
