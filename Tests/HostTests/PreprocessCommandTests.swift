import Foundation
import HFCausalLM
import Kernel
import SkillTuneCLI
import XCTest

/// `skilltune preprocess --model DIR --image FILE --json` on a LLaVA-1.5, a LLaVA-OneVision and a Qwen2.5-VL
/// processor (Tests/Fixtures/hf/processors): pixel values, image sizes, placeholder counts and (Qwen2-VL only)
/// `image_grid_thw` equal to transformers'.
final class PreprocessCommandTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hf/processors")
    static let images = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("KernelTests/Fixtures/resample")

    struct Golden: Decodable {
        let model: String
        let images: [String]
        let pixel_values_shape: [Int]
        let pixel_values_f32: String
        let image_sizes: [[Int]]
        let image_tokens_per_image: [Int]
        let image_grid_thw: [[Int]]?
    }
    struct Output: Decodable {
        let pixel_values_shape: [Int]
        let pixel_values: [Float]
        let image_sizes: [[Int]]
        let image_tokens: Int
        let image_tokens_per_image: [Int]
        let image_grid_thw: [[Int]]?
    }

    func run(_ arguments: [String]) throws -> String {
        try printedOutput(ModelCommands.preprocess, arguments)
    }

    func testPixelValuesAndPlaceholderCountsMatchTransformers() throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("preprocess_golden.json"))
        let cases = try JSONDecoder().decode([Golden].self, from: data)
        XCTAssertEqual(cases.count, 12)
        XCTAssertEqual(cases.filter { $0.image_grid_thw != nil }.map(\.model), ["qwen2.5-vl", "qwen2.5-vl"])
        for c in cases {
            var arguments = ["--model", Self.fixtures.appendingPathComponent(c.model).path, "--json"]
            for image in c.images { arguments += ["--image", Self.images.appendingPathComponent(image).path] }
            let out = try JSONDecoder().decode(Output.self, from: Data(try run(arguments).utf8))
            let what = "\(c.model) \(c.images)"
            XCTAssertEqual(out.pixel_values_shape, c.pixel_values_shape, what)
            XCTAssertEqual(out.image_sizes, c.image_sizes, what)
            XCTAssertEqual(out.image_tokens_per_image, c.image_tokens_per_image, what)
            XCTAssertEqual(out.image_tokens, c.image_tokens_per_image.reduce(0, +), what)
            XCTAssertEqual(out.image_grid_thw, c.image_grid_thw, what)
            let bytes = [UInt8](try XCTUnwrap(Data(base64Encoded: c.pixel_values_f32)))
            let expected = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            XCTAssertEqual(out.pixel_values.count, expected.count, what)
            XCTAssertEqual(zip(out.pixel_values, expected).filter { $0.bitPattern != $1.bitPattern }.count, 0, what)
        }
    }

    func testErrorsNameWhatIsWrong() throws {
        let qwen = Self.fixtures.deletingLastPathComponent().appendingPathComponent("qwen2-tiny").path
        let image = Self.images.appendingPathComponent("rgb_5x9.png").path
        func message(_ arguments: [String]) -> String {
            do {
                _ = try run(arguments)
                return "ran"
            } catch { return "\(error)" }
        }
        let text = message(["--model", qwen, "--image", image])
        XCTAssertTrue(text.contains("model_type") && text.contains("qwen2") && text.contains("llava"), text)
        let llava = Self.fixtures.appendingPathComponent("llava-1.5").path
        XCTAssertTrue(message(["--model", llava]).contains("--image"))
        XCTAssertTrue(message(["--model", llava, "--image", "/no/such.png"]).contains("/no/such.png"))
    }
}
