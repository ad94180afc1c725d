import Foundation
import HFCausalLM
import Kernel
import XCTest

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
            let bytes = [UInt8](try XCTUnwrap(Data(base64Encoded: c.pixel_values_f32)))
            let expected = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
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
