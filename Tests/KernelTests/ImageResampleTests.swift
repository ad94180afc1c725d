import Foundation
import Kernel
import XCTest

/// `Image.resized` against Pillow's `Image.resize` (Fixtures/resample/make_resample_fixtures.py): the same bytes.
final class ImageResampleTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/resample")

    struct Golden: Decodable {
        struct Resize: Decodable {
            let source: String
            let width: Int
            let height: Int
            let filter: String
            let rgb: String
        }
        let resize: [Resize]
    }

    func testResizeMatchesPillowByteForByte() throws {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent("resample_golden.json"))
        let golden = try JSONDecoder().decode(Golden.self, from: data)
        XCTAssertGreaterThanOrEqual(golden.resize.count, 8)
        for c in golden.resize {
            let image = try ImageFile.read(Self.directory.appendingPathComponent(c.source))
            let filter = try XCTUnwrap(ResampleFilter(rawValue: c.filter))
            let out = image.resized(width: c.width, height: c.height, filter: filter)
            let expected = [UInt8](try XCTUnwrap(Data(base64Encoded: c.rgb)))
            XCTAssertEqual(out.width, c.width)
            XCTAssertEqual(out.height, c.height)
            let differing = zip(out.pixels, expected).filter { $0 != $1 }.count
            XCTAssertEqual(differing, 0, "\(c.source) -> \(c.width)x\(c.height) \(c.filter)")
            XCTAssertEqual(out.pixels.count, expected.count)
        }
    }

    func testSameSizeIsTheImageAndOnePixelIsItsAverage() {
        let image = Image(width: 2, height: 2, pixels: [0, 0, 0, 100, 100, 100, 200, 200, 200, 40, 40, 40])
        XCTAssertEqual(image.resized(width: 2, height: 2, filter: .bicubic), image)
        // Bilinear to 1x1 weighs the four pixels equally: (0 + 100 + 200 + 40) / 4 = 85.
        XCTAssertEqual(image.resized(width: 1, height: 1, filter: .bilinear).pixels, [85, 85, 85])
    }

    /// transformers' center_crop: offset (size - crop) // 2; a larger crop pads with black, the image at
    /// ceil((crop - size) / 2).
    func testCenterCropOffsetsAndPadding() {
        let pixels = (0..<(5 * 3)).flatMap { [UInt8($0), UInt8($0), UInt8($0)] }
        let image = Image(width: 5, height: 3, pixels: pixels)
        let cropped = image.centerCropped(width: 2, height: 2)
        XCTAssertEqual(cropped.pixels.enumerated().filter { $0.offset % 3 == 0 }.map(\.element), [1, 2, 6, 7])
        let padded = image.centerCropped(width: 6, height: 4)
        let gray = padded.pixels.enumerated().filter { $0.offset % 3 == 0 }.map(\.element)
        XCTAssertEqual(Array(gray[0..<6]), [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(Array(gray[6..<12]), [0, 0, 1, 2, 3, 4])
        XCTAssertEqual(Array(gray[18..<24]), [0, 10, 11, 12, 13, 14])
    }
}
