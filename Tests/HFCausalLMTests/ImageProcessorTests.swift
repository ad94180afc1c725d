import Foundation
import HFCausalLM
import Kernel
import XCTest

/// Float32 values a fixture stores as base64 of their little-endian bytes (numpy's `tobytes()`).
func goldenFloats(_ base64: String) throws -> [Float] {
    let bytes = [UInt8](try XCTUnwrap(Data(base64Encoded: base64)))
    return bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

/// `ImageProcessor` against transformers' `LlavaImageProcessorPil` (shortest-edge bicubic resize, centre crop,
/// rescale, normalize) on RGB, gray and RGBA PNGs: the same Float bits.
final class ImageProcessorTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("KernelTests/Fixtures/resample")

    struct Golden: Decodable {
        struct Case: Decodable {
            let source: String
            let shortest_edge: Int
            let crop: Int
            let shape: [Int]
            let pixel_values_f32: String
        }
        let processor: [Case]
    }

    func testPixelValuesMatchTransformersPILProcessor() throws {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent("resample_golden.json"))
        let golden = try JSONDecoder().decode(Golden.self, from: data)
        XCTAssertEqual(golden.processor.count, 12)
        for c in golden.processor {
            let image = try ImageFile.read(Self.directory.appendingPathComponent(c.source))
            let processor = ImageProcessor(resize: .shortestEdge(c.shortest_edge), crop: (c.crop, c.crop))
            let (shape, values) = processor.pixelValues(image)
            XCTAssertEqual(shape, c.shape, c.source)
            let expected = try goldenFloats(c.pixel_values_f32)
            XCTAssertEqual(values.count, expected.count)
            let differing = zip(values, expected).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(differing, 0, "\(c.source) shortest_edge \(c.shortest_edge) crop \(c.crop)")
        }
    }

    func testConfigFilesAndDefaults() throws {
        let llava = """
            {"crop_size": {"height": 336, "width": 336}, "do_center_crop": true, "do_normalize": true,
             "do_resize": true, "image_mean": [0.48145466, 0.4578275, 0.40821073], "resample": 3,
             "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": 336},
             "image_std": [0.26862954, 0.26130258, 0.27577711], "image_processor_type": "CLIPImageProcessor"}
            """
        let p = try ImageProcessor.parse(Data(llava.utf8), file: "preprocessor_config.json")
        XCTAssertEqual(p, ImageProcessor(resize: .shortestEdge(336), crop: (336, 336)))
        XCTAssertEqual(p.resizedSize(height: 480, width: 640).height, 336)
        XCTAssertEqual(p.resizedSize(height: 480, width: 640).width, 448)
        // transformers 5 nests the same fields under image_processor; absent fields are CLIP's defaults.
        let nested = try ImageProcessor.parse(
            Data(#"{"image_processor": {"size": 384, "do_center_crop": false, "resample": 2}}"#.utf8), file: "p.json")
        XCTAssertEqual(
            nested, ImageProcessor(resize: .exact(height: 384, width: 384), filter: .bilinear, crop: nil))
    }

    func testBadConfigsNameTheFieldAndWhatWasExpected() {
        func message(_ json: String) -> String {
            do {
                _ = try ImageProcessor.parse(Data(json.utf8), file: "preprocessor_config.json")
                return "parsed"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(message(#"{"resample": 1}"#).contains("resample"), message(#"{"resample": 1}"#))
        XCTAssertTrue(message(#"{"size": {"shortest_edge": 0}}"#).contains("size.shortest_edge"))
        XCTAssertTrue(message(#"{"size": {"shortest_edge": 1000000}}"#).contains("16384"))
        XCTAssertTrue(message(#"{"crop_size": {"height": 10}}"#).contains("crop_size.width"))
        XCTAssertTrue(message(#"{"image_std": [1, 0, 1]}"#).contains("image_std"))
        XCTAssertTrue(message(#"{"image_mean": "x"}"#).contains("image_mean"))
        XCTAssertTrue(message(#"{"do_resize": "yes"}"#).contains("do_resize"))
        XCTAssertTrue(message("[1]").contains("preprocessor_config.json"))
    }
}

/// `AnyResImageProcessor` against transformers' `LlavaOnevisionImageProcessorPil` at a small tile size: the
/// same tiles and Float bits, alone in a prompt (grid tiles) and as one of two images (mean-colour square).
final class AnyResImageProcessorTests: XCTestCase {
    struct Golden: Decodable {
        struct AnyRes: Decodable {
            struct Case: Decodable {
                let source: String
                let shape: [Int]
                let image_sizes: [Int]
                let pixel_values_f32: String
                let multi_shape: [Int]
                let multi_pixel_values_f32: String
            }
            let size: Int
            let image_grid_pinpoints: [[Int]]
            let cases: [Case]
        }
        let anyres: AnyRes
    }

    func testTilesMatchTransformersOneVisionProcessor() throws {
        let data = try Data(
            contentsOf: ImageProcessorTests.directory.appendingPathComponent("resample_golden.json"))
        let golden = try JSONDecoder().decode(Golden.self, from: data).anyres
        let processor = AnyResImageProcessor(
            tile: ImageProcessor(resize: .exact(height: golden.size, width: golden.size), crop: nil),
            gridPinpoints: golden.image_grid_pinpoints)
        XCTAssertEqual(golden.cases.count, 4)
        for c in golden.cases {
            let image = try ImageFile.read(ImageProcessorTests.directory.appendingPathComponent(c.source))
            XCTAssertEqual([image.height, image.width], c.image_sizes)
            let alone = processor.pixelValues(image)
            XCTAssertEqual(alone.shape, c.shape, c.source)
            let expected = try goldenFloats(c.pixel_values_f32)
            XCTAssertEqual(alone.values.count, expected.count, c.source)
            XCTAssertEqual(zip(alone.values, expected).filter { $0.bitPattern != $1.bitPattern }.count, 0, c.source)
            let several = processor.pixelValues(image, alone: false)
            XCTAssertEqual(several.shape, c.multi_shape, c.source)
            let expectedMulti = try goldenFloats(c.multi_pixel_values_f32)
            XCTAssertEqual(
                zip(several.values, expectedMulti).filter { $0.bitPattern != $1.bitPattern }.count, 0, c.source)
        }
    }

    func testBestResolutionAndConfig() throws {
        // A 640x480 (w x h) photo at OneVision's grid: 768 x 768 (h, w) keeps the most pixels.
        let best = AnyResImageProcessor.selectBestResolution(
            height: 480, width: 640, candidates: AnyResImageProcessor.defaultPinpoints)
        XCTAssertEqual(best.height, 768)
        XCTAssertEqual(best.width, 768)
        let config = #"""
            {"image_processor_type": "LlavaOnevisionImageProcessor", "size": {"height": 384, "width": 384},
             "do_center_crop": null, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
             "image_grid_pinpoints": [[384, 384], [384, 768]], "resample": 3}
            """#
        let p = try AnyResImageProcessor.parse(Data(config.utf8), file: "preprocessor_config.json")
        XCTAssertEqual(p.gridPinpoints, [[384, 384], [384, 768]])
        XCTAssertNil(p.tile.crop)
        XCTAssertEqual(p.tileSize.height, 384)
        XCTAssertEqual(p.tile.mean, [0.5, 0.5, 0.5])
        XCTAssertThrowsError(
            try AnyResImageProcessor.parse(Data(#"{"image_grid_pinpoints": [[384]]}"#.utf8), file: "p.json")
        ) { XCTAssertTrue("\($0)".contains("image_grid_pinpoints"), "\($0)") }
    }
}

/// `AnyResImageProcessor.featureCount` against `LlavaOnevisionProcessor._get_number_of_features`.
final class AnyResFeatureCountTests: XCTestCase {
    struct Golden: Decodable {
        struct Case: Decodable {
            let tile: Int
            let num_image_tokens: Int
            let vision_aspect_ratio: String
            let image_grid_pinpoints: [[Int]]
            let height: Int
            let width: Int
            let features: Int
        }
        let image_tokens: [Case]
    }

    func testFeatureCountsMatchTransformers() throws {
        let data = try Data(
            contentsOf: ImageProcessorTests.directory.appendingPathComponent("resample_golden.json"))
        let cases = try JSONDecoder().decode(Golden.self, from: data).image_tokens
        XCTAssertEqual(cases.count, 28)
        for c in cases {
            let processor = AnyResImageProcessor(
                tile: ImageProcessor(resize: .exact(height: c.tile, width: c.tile), crop: nil),
                gridPinpoints: c.image_grid_pinpoints)
            let maxTiles = try XCTUnwrap(Int(c.vision_aspect_ratio.replacingOccurrences(of: "anyres_max_", with: "")))
            XCTAssertEqual(
                processor.featureCount(
                    height: c.height, width: c.width, tokensPerTile: c.num_image_tokens, maxTiles: maxTiles),
                c.features, "\(c.height)x\(c.width) tile \(c.tile)")
        }
    }
}
