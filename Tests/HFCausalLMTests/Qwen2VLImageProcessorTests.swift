import Foundation
import HFCausalLM
import Kernel
import XCTest

/// `Qwen2VLImageProcessor` against transformers 5.25's `Qwen2VLImageProcessorPil` (Tests/Fixtures/hf/processors,
/// made by make_processor_fixtures.py): the same `smart_resize` sizes and errors, `image_grid_thw`, token counts
/// and pixel values to the bit, and the settings read from both config forms.
final class Qwen2VLImageProcessorTests: XCTestCase {
    static let processors = HFFixtures.root.appendingPathComponent("processors")
    static let resampleImages = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("KernelTests/Fixtures/resample")

    struct Golden: Decodable {
        struct SmartResize: Decodable {
            let height: Int
            let width: Int
            let factor: Int
            let min_pixels: Int
            let max_pixels: Int
            let resized: [Int]?
            let error: String?
        }
        struct Settings: Decodable {
            let patch_size: Int?
            let merge_size: Int?
            let temporal_patch_size: Int?
            let min_pixels: Int
            let max_pixels: Int
            let do_resize: Bool?
        }
        struct Case: Decodable {
            let processor: String
            let settings: Settings?
            let image: String
            let image_size: [Int]
            let resized: [Int]
            let image_grid_thw: [Int]
            let image_tokens: Int
            let pixel_values_shape: [Int]
            let pixel_values_first_frame_f32: String
        }
        let smart_resize: [SmartResize]
        let cases: [Case]
    }

    static func golden() throws -> Golden {
        try JSONDecoder().decode(
            Golden.self, from: Data(contentsOf: processors.appendingPathComponent("qwen2_vl_golden.json")))
    }

    static func image(_ name: String) throws -> Image {
        let own = processors.appendingPathComponent("images").appendingPathComponent(name)
        let url = FileManager.default.fileExists(atPath: own.path) ? own : resampleImages.appendingPathComponent(name)
        return try ImageFile.read(url)
    }

    static func qwen(_ preprocessor: HFImagePreprocessor) throws -> Qwen2VLImageProcessor {
        if case .qwen2VL(let processor) = preprocessor.kind { return processor }
        return try XCTUnwrap(nil, "not a Qwen2-VL preprocessor: \(preprocessor.kind)")
    }

    func testPixelValuesGridsAndTokensMatchTransformers() throws {
        let cases = try Self.golden().cases
        XCTAssertEqual(cases.count, 10)
        for c in cases {
            let what = "\(c.processor) \(c.image)"
            let processor: Qwen2VLImageProcessor
            var preprocessor: HFImagePreprocessor?
            if let s = c.settings {
                processor = Qwen2VLImageProcessor(
                    minPixels: s.min_pixels, maxPixels: s.max_pixels, patchSize: s.patch_size ?? 14,
                    temporalPatchSize: s.temporal_patch_size ?? 2, mergeSize: s.merge_size ?? 2,
                    doResize: s.do_resize ?? true)
            } else {
                preprocessor = try HFImagePreprocessor.load(Self.processors.appendingPathComponent(c.processor))
                processor = try Self.qwen(preprocessor!)
            }
            let image = try Self.image(c.image)
            XCTAssertEqual([image.height, image.width], c.image_size, what)
            let size = try processor.resizedSize(height: image.height, width: image.width)
            XCTAssertEqual([size.height, size.width], c.resized, what)
            XCTAssertEqual(try processor.gridTHW(height: image.height, width: image.width), c.image_grid_thw, what)
            XCTAssertEqual(try processor.tokenCount(height: image.height, width: image.width), c.image_tokens, what)

            let (shape, values, grids) = try processor.pixelValues([image])
            XCTAssertEqual(shape, c.pixel_values_shape, what)
            XCTAssertEqual(grids, [c.image_grid_thw], what)
            // Every temporal copy of each patch is transformers' (whose copies the generator checked are equal).
            let first = try goldenFloats(c.pixel_values_first_frame_f32)
            let (t, p2) = (processor.temporalPatchSize, processor.patchSize * processor.patchSize)
            XCTAssertEqual(values.count, first.count * t, what)
            var differing = 0
            for i in 0..<values.count {
                let (row, rest) = (i / processor.patchDimension, i % processor.patchDimension)
                let (channel, within) = (rest / (t * p2), rest % p2)
                if values[i].bitPattern != first[(row * 3 + channel) * p2 + within].bitPattern { differing += 1 }
            }
            XCTAssertEqual(differing, 0, what)

            if let preprocessor {
                let inputs = try preprocessor.inputs([image])
                XCTAssertEqual(inputs.shape, c.pixel_values_shape, what)
                XCTAssertEqual(inputs.imageGridTHW, [c.image_grid_thw], what)
                XCTAssertEqual(inputs.imageTokens, [c.image_tokens], what)
                XCTAssertEqual(inputs.imageSizes, [c.image_size], what)
                XCTAssertEqual(inputs.pixelValues, values, what)
            }
        }
    }

    /// Several images of a prompt: their rows one after the other, a grid each.
    func testImagesOfAPromptAreConcatenated() throws {
        let preprocessor = try HFImagePreprocessor.load(Self.processors.appendingPathComponent("qwen2-vl"))
        let processor = try Self.qwen(preprocessor)
        let images = [try Self.image("rgb_37x23.png"), try Self.image("rgb_70x50.png")]
        let inputs = try preprocessor.inputs(images)
        XCTAssertEqual(inputs.imageGridTHW, [[1, 4, 6], [1, 4, 4]])
        XCTAssertEqual(inputs.imageTokens, [6, 4])
        XCTAssertEqual(inputs.shape, [24 + 16, 1176])
        XCTAssertEqual(
            inputs.pixelValues, try processor.pixelValues(images[0]).values + processor.pixelValues(images[1]).values)
    }

    /// transformers' `smart_resize` over transformers' defaults, the Hub's Qwen2.5-VL bounds, the fixtures'
    /// bounds, a 21-pixel factor and min_pixels above max_pixels: sizes, and errors where transformers raises.
    func testSmartResizeTableMatchesTransformers() throws {
        let rows = try Self.golden().smart_resize
        XCTAssertEqual(rows.count, 49)
        for r in rows {
            let what = "\(r.height)x\(r.width) factor \(r.factor) [\(r.min_pixels), \(r.max_pixels)]"
            do {
                let size = try Qwen2VLImageProcessor.smartResize(
                    height: r.height, width: r.width, factor: r.factor, minPixels: r.min_pixels,
                    maxPixels: r.max_pixels)
                XCTAssertEqual([size.height, size.width], r.resized, what)
                XCTAssertNil(r.error, what)
            } catch let error as Qwen2VLImageProcessor.SizeError {
                let expected = try XCTUnwrap(r.error, "\(what): \(error)")
                if expected.hasPrefix("ValueError: absolute aspect ratio") {
                    XCTAssertTrue(error.message.contains("aspect ratio"), error.message)
                    XCTAssertTrue(error.message.contains("at most 200"), error.message)
                } else {
                    XCTAssertTrue(expected.hasPrefix("ZeroDivisionError"), expected)
                    XCTAssertTrue(error.message.contains("no pixels"), error.message)
                }
                XCTAssertTrue(error.message.contains("\(r.height)x\(r.width)"), error.message)
            }
        }
    }

    /// The formula's corners, with transformers' results (the table above holds them too).
    func testSmartResizeCorners() throws {
        func resized(_ h: Int, _ w: Int, min: Int = 3136, max: Int = 12544) throws -> [Int] {
            let s = try Qwen2VLImageProcessor.smartResize(height: h, width: w, minPixels: min, maxPixels: max)
            return [s.height, s.width]
        }
        XCTAssertEqual(try resized(50, 70), [56, 56], "70 / 28 = 2.5 rounds to even: 2")
        XCTAssertEqual(try resized(98, 45), [112, 56], "98 / 28 = 3.5 rounds to even: 4")
        XCTAssertEqual(try resized(113, 113), [112, 112], "rounded, within bounds")
        XCTAssertEqual(try resized(130, 130), [84, 84], "140² > max: floor(130 / beta / 28) = 3")
        XCTAssertEqual(try resized(1, 1), [56, 56], "a single pixel grows to min_pixels")
        XCTAssertEqual(try resized(10000, 50), [1568, 28], "max(factor, ...) leaves it above max_pixels")
        XCTAssertEqual(try resized(40, 50, min: 20000, max: 3136), [140, 168], "min above max: min wins here")
        XCTAssertEqual(try resized(1, 200, min: 3136, max: 1_003_520), [28, 812], "aspect ratio 200 is allowed")
        XCTAssertEqual(try resized(56, 11200, min: 3136, max: 1_003_520), [56, 11200])
        XCTAssertThrowsError(try resized(1, 201)) { XCTAssertTrue("\($0)".contains("aspect ratio of 201.0"), "\($0)") }
        XCTAssertThrowsError(try resized(401, 2)) { XCTAssertTrue("\($0)".contains("200.5"), "\($0)") }
        XCTAssertThrowsError(try resized(0, 5)) { XCTAssertTrue("\($0)".contains("no pixels"), "\($0)") }
        // Qwen2-VL's defaults: 3136 to 1003520 pixels.
        let defaults = Qwen2VLImageProcessor()
        XCTAssertEqual(defaults.factor, 28)
        XCTAssertEqual(defaults.patchDimension, 1176)
        XCTAssertEqual(try defaults.gridTHW(height: 1080, width: 1920), [1, 52, 94])
        XCTAssertEqual(try defaults.tokenCount(height: 1080, width: 1920), 52 * 94 / 4)
    }

    /// Images the processor refuses throw from `inputs` and `imageTokens`, naming the image's size.
    func testRefusedImagesThrow() throws {
        let preprocessor = try HFImagePreprocessor.load(Self.processors.appendingPathComponent("qwen2-vl"))
        let strip = Image(width: 201, height: 1)
        XCTAssertThrowsError(try preprocessor.inputs([Image(width: 8, height: 8), strip])) {
            XCTAssertTrue($0 is Qwen2VLImageProcessor.SizeError)
            XCTAssertTrue("\($0)".contains("1x201"), "\($0)")
        }
        XCTAssertThrowsError(try preprocessor.imageTokens([strip]))
        XCTAssertThrowsError(try Qwen2VLImageProcessor().pixelValues(Image(width: 0, height: 0)))
        // Without the resize, sides must already be multiples of patch_size x merge_size.
        let unresized = Qwen2VLImageProcessor(doResize: false)
        XCTAssertEqual(try unresized.gridTHW(height: 28, width: 56), [1, 2, 4])
        XCTAssertThrowsError(try unresized.pixelValues(Image(width: 50, height: 40))) {
            XCTAssertTrue("\($0)".contains("multiples of patch_size x merge_size = 28"), "\($0)")
        }
    }

    func testConfigForms() throws {
        func parse(_ json: String, file: String = "preprocessor_config.json") throws -> Qwen2VLImageProcessor {
            try Qwen2VLImageProcessor.parse(Data(json.utf8), file: file)
        }
        // The Hub's Qwen2-VL file: top-level min_pixels / max_pixels.
        let hub = try parse(
            #"""
            {"min_pixels": 3136, "max_pixels": 12845056, "patch_size": 14, "temporal_patch_size": 2, "merge_size": 2,
             "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
             "image_processor_type": "Qwen2VLImageProcessor", "processor_class": "Qwen2VLProcessor"}
            """#)
        XCTAssertEqual(hub, Qwen2VLImageProcessor(minPixels: 3136, maxPixels: 12_845_056))
        // The newer size form, transformers 5's nesting, other settings.
        let nested = try parse(
            #"""
            {"image_processor": {"size": {"shortest_edge": 784, "longest_edge": 3136}, "resample": 2,
             "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "do_convert_rgb": false,
             "patch_size": 16, "merge_size": 1, "temporal_patch_size": 1}}
            """#, file: "processor_config.json")
        XCTAssertEqual(
            nested,
            Qwen2VLImageProcessor(
                minPixels: 784, maxPixels: 3136, patchSize: 16, temporalPatchSize: 1, mergeSize: 1, filter: .bilinear,
                mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], doConvertRGB: false))
        // Both forms: each top-level key wins over its size key (Qwen2VLImageProcessorPil.__init__).
        let both = try parse(#"{"size": {"shortest_edge": 784, "longest_edge": 3136}, "min_pixels": 1000}"#)
        XCTAssertEqual([both.minPixels, both.maxPixels], [1000, 3136])
        let fixture = try Self.qwen(HFImagePreprocessor.load(Self.processors.appendingPathComponent("qwen2-vl")))
        XCTAssertEqual([fixture.minPixels, fixture.maxPixels], [3136, 12544], "its size says 784 / 3136")
        // Neither: transformers' defaults. Without the resize, the bounds are not needed.
        XCTAssertEqual(try parse("{}"), Qwen2VLImageProcessor())
        XCTAssertEqual(try parse(#"{"size": {}, "do_resize": false}"#).doResize, false)
        let plain = try parse(#"{"do_rescale": false, "do_normalize": false, "rescale_factor": 2}"#)
        XCTAssertNil(plain.rescaleFactor)
        XCTAssertNil(plain.mean)
        // 1/255 as JSONDecoder reads it (correctly rounded), as the CLIP-style processor does.
        XCTAssertEqual(try parse(#"{"rescale_factor": 0.00392156862745098}"#).rescaleFactor, 0.00392156862745098)
    }

    func testBadConfigsNameTheFileAndKey() {
        func message(_ json: String, file: String = "preprocessor_config.json") -> String {
            do {
                _ = try Qwen2VLImageProcessor.parse(Data(json.utf8), file: file)
                return "parsed"
            } catch { return "\(error)" }
        }
        func check(_ json: String, _ parts: String..., file: String = "preprocessor_config.json") {
            let text = message(json, file: file)
            XCTAssertTrue(text.hasPrefix(file + ": "), text)
            for part in parts { XCTAssertTrue(text.contains(part), "\(json): \(text)") }
        }
        check(#"{"size": {"shortest_edge": 3136}}"#, "size", "longest_edge", "max_pixels")
        check(#"{"size": {"height": 56, "width": 56}}"#, "size", "shortest_edge")
        check(#"{"size": 3136}"#, "size should be an object")
        check(#"{"size": {"shortest_edge": "3136", "longest_edge": 12544}}"#, "size.shortest_edge", "integer")
        check(#"{"min_pixels": 0}"#, "min_pixels", "from 1 to 268435456")
        check(#"{"size": {"shortest_edge": 3136, "longest_edge": -1}}"#, "size.longest_edge", "got -1")
        check(#"{"max_pixels": 1e12}"#, "max_pixels")
        check(#"{"min_pixels": 3136.5}"#, "min_pixels", "integer")
        check(#"{"patch_size": 0}"#, "patch_size", "from 1 to 1024")
        check(#"{"merge_size": 100}"#, "merge_size", "from 1 to 64")
        check(#"{"temporal_patch_size": -2}"#, "temporal_patch_size")
        check(#"{"patch_size": 1000, "merge_size": 20}"#, "merge_size", "16384")
        check(#"{"resample": 1}"#, "resample")
        check(#"{"image_std": [1, 0, 1]}"#, "image_std")
        check(#"{"image_mean": "x"}"#, "image_mean")
        check(#"{"do_resize": "yes"}"#, "do_resize")
        check(#"{"do_convert_rgb": 1}"#, "do_convert_rgb")
        check(#"{"image_processor": {"min_pixels": "a lot"}}"#, "image_processor.min_pixels", file: "p.json")
        check(#"{"image_processor": {"resample": 0}}"#, "image_processor.resample", file: "p.json")
        check("[1]", "JSON object")
    }

    /// `load` on Qwen2-VL and Qwen2.5-VL directories: the processor file found either way, and checked against
    /// the vision tower's patch, merge and temporal sizes in config.json.
    func testLoadReadsBothLayoutsAndChecksTheVisionConfig() throws {
        let qwen25 = try Self.qwen(HFImagePreprocessor.load(Self.processors.appendingPathComponent("qwen2.5-vl")))
        XCTAssertEqual(
            qwen25,
            Qwen2VLImageProcessor(
                minPixels: 784, maxPixels: 3136, filter: .bilinear, rescaleFactor: 0.00392156862745098,
                mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]))

        let directory = try HFFixtures.temporaryDirectory(self)
        func write(_ name: String, _ json: String) throws {
            try Data(json.utf8).write(to: directory.appendingPathComponent(name))
        }
        func loadMessage() -> String {
            do {
                _ = try HFImagePreprocessor.load(directory)
                return "loaded"
            } catch { return "\(error)" }
        }
        try write("preprocessor_config.json", #"{"min_pixels": 3136, "max_pixels": 12544, "merge_size": 2}"#)
        try write("config.json", #"{"model_type": "qwen2_vl"}"#)  // no vision_config: transformers' 14, 2, 2
        XCTAssertEqual(loadMessage(), "loaded")
        try write("config.json", #"{"model_type": "qwen2_5_vl", "vision_config": {"spatial_merge_size": 4}}"#)
        var text = loadMessage()
        XCTAssertTrue(text.hasPrefix(directory.appendingPathComponent("config.json").path + ": "), text)
        XCTAssertTrue(text.contains("vision_config.spatial_merge_size is 4"), text)
        XCTAssertTrue(text.contains("preprocessor_config.json has merge_size 2"), text)
        try write("config.json", #"{"model_type": "qwen2_vl", "vision_config": {"patch_size": [14, 14]}}"#)
        XCTAssertTrue(loadMessage().contains("vision_config.patch_size should be an integer"), loadMessage())

        try FileManager.default.removeItem(at: directory.appendingPathComponent("preprocessor_config.json"))
        try write("processor_config.json", #"{"image_processor": {"temporal_patch_size": 1}}"#)
        try write("config.json", #"{"model_type": "qwen2_vl", "vision_config": {"temporal_patch_size": 2}}"#)
        text = loadMessage()
        XCTAssertTrue(text.contains("vision_config.temporal_patch_size is 2"), text)
        XCTAssertTrue(text.contains("processor_config.json has image_processor.temporal_patch_size 1"), text)
        try write("processor_config.json", #"{"processor_class": "Qwen2VLProcessor"}"#)
        XCTAssertTrue(loadMessage().contains("preprocessor_config.json: file not found"), loadMessage())
    }

    /// A LLaVA model refuses Qwen2-VL's processor.
    func testLLaVARefusesTheQwenProcessor() throws {
        let (config, _) = try HFLLaVA.oneVision05B()
        let qwen = HFImagePreprocessor(kind: .qwen2VL(Qwen2VLImageProcessor()), defaultFeatureStrategy: false)
        XCTAssertThrowsError(try HFLLaVA.create(config: config, preprocessor: qwen, seed: 0)) {
            XCTAssertTrue("\($0)".contains("Qwen2-VL"), "\($0)")
        }
    }
}
