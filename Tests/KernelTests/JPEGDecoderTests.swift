import Foundation
import Kernel
import XCTest

private let fixtureDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/jpeg")

private func fixtureBytes(_ name: String) throws -> [UInt8] {
    let url = fixtureDirectory.appendingPathComponent(name)
    guard let data = FileManager.default.contents(atPath: url.path) else {
        throw ImageCodecError(file: url.path, reason: "missing fixture")
    }
    return [UInt8](data)
}

/// The byte offset of the first marker `code` (FF code) at or after `from`.
private func markerOffset(_ bytes: [UInt8], _ code: UInt8, from: Int = 2) -> Int? {
    var i = from
    while i + 1 < bytes.count {
        if bytes[i] == 0xFF && bytes[i + 1] == code { return i }
        i += 1
    }
    return nil
}

/// Fixtures/jpeg/make_jpeg_fixtures.py made each X.jpg with PIL or cjpeg, and X.png from PIL's
/// `Image.open(X.jpg).convert("RGB")` (libjpeg-turbo 3.2): the decoder must agree within 2 levels everywhere.
final class JPEGDecoderTests: XCTestCase {
    func testEveryFixtureMatchesPILWithinTwoLevels() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: fixtureDirectory.path)
            .filter { $0.hasSuffix(".jpg") && !$0.hasPrefix("reject_") && !$0.hasPrefix("speed_") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 25)
        var worst = 0
        var exact = 0
        var samples = 0
        var report: [String] = []
        for name in names {
            let stem = String(name.dropLast(4))
            let decoded = try ImageFile.read(fixtureDirectory.appendingPathComponent(name))
            let expected = try ImageFile.read(fixtureDirectory.appendingPathComponent(stem + ".png"))
            XCTAssertEqual(decoded.width, expected.width, name)
            XCTAssertEqual(decoded.height, expected.height, name)
            guard decoded.pixels.count == expected.pixels.count else { continue }
            var maxDiff = 0
            for (a, b) in zip(decoded.pixels, expected.pixels) {
                let d = abs(Int(a) - Int(b))
                maxDiff = max(maxDiff, d)
                if d == 0 { exact += 1 }
            }
            samples += decoded.pixels.count
            worst = max(worst, maxDiff)
            report.append("\(stem): max \(maxDiff)")
            XCTAssertLessThanOrEqual(maxDiff, 2, "\(name) differs from PIL by \(maxDiff) levels")
        }
        print(
            "JPEG vs PIL: \(names.count) fixtures, max difference \(worst) levels, \(exact) of \(samples) samples exact"
        )
        print(report.joined(separator: "\n"))
    }

    func testGrayscaleGivesThreeEqualChannelsAndSniffing() throws {
        let bytes = try fixtureBytes("gray_17x9_q90.jpg")
        XCTAssertEqual(ImageFile.sniff(bytes), .jpeg)
        let image = try ImageFile.decode(bytes)
        XCTAssertEqual(image.width, 17)
        XCTAssertEqual(image.height, 9)
        for i in 0..<(17 * 9) {
            XCTAssertEqual(image.pixels[3 * i], image.pixels[3 * i + 1])
            XCTAssertEqual(image.pixels[3 * i], image.pixels[3 * i + 2])
        }
        // A .jpg that is no JPEG gets the JPEG decoder's reason, not "unknown format".
        assertRejects([1, 2, 3], "JPEG: missing the start-of-image marker", file: "photo.jpg")
    }

    /// Each input gives an ImageCodecError naming the file and containing `expected`.
    private func assertRejects(
        _ bytes: [UInt8], _ expected: String, file name: String = "bad.jpg",
        limits: ImageLimits = ImageLimits(maxPixels: 1 << 20),
        sourceFile: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try ImageFile.decode(bytes, file: name, limits: limits), file: sourceFile, line: line) {
            guard let e = $0 as? ImageCodecError else { return XCTFail("\($0)", file: sourceFile, line: line) }
            XCTAssertEqual(e.file, name, file: sourceFile, line: line)
            XCTAssertTrue(
                e.reason.contains(expected), "'\(e.reason)' lacks '\(expected)'", file: sourceFile, line: line)
        }
    }

    func testUnsupportedCodingsAndSizesAreRefusedClearly() throws {
        assertRejects(try fixtureBytes("reject_arithmetic.jpg"), "arithmetic-coded JPEG")
        let good = try fixtureBytes("rgb_64x48_q90_420.jpg")
        let sof = try XCTUnwrap(markerOffset(good, 0xC0))
        // SOF layout: FF C0, length (2), precision, height (2), width (2), components.
        var huge = good
        huge[sof + 5] = 0xEA
        huge[sof + 6] = 0x60  // height 60000
        huge[sof + 7] = 0xEA
        huge[sof + 8] = 0x60  // width 60000
        assertRejects(huge, "size 60000x60000 exceeds the limit")
        assertRejects(good, "size 64x48 exceeds the limit", limits: ImageLimits(maxPixels: 1000))
        var twelveBit = good
        twelveBit[sof + 4] = 12
        assertRejects(twelveBit, "12-bit samples are not supported")
        var lossless = good
        lossless[sof + 1] = 0xC3
        assertRejects(lossless, "lossless JPEG (SOF3) is not supported")
        var noHeight = good
        noHeight[sof + 5] = 0
        noHeight[sof + 6] = 0
        assertRejects(noHeight, "height 0")
        var badSampling = good
        badSampling[sof + 11] = 0x33  // Y 3x3 with chroma 1x1 is fine, so make chroma 2x2 under Y 3x3
        badSampling[sof + 14] = 0x22
        assertRejects(badSampling, "not an integral fraction")
        var twoComponents = good
        twoComponents[sof + 9] = 2
        assertRejects(twoComponents, "2 components are not supported")
    }

    func testTruncatedFilesAreRefusedAtEveryCut() throws {
        for name in [
            "rgb_17x9_q50_422.jpg", "rgb_19x23_q100_444_progressive.jpg", "rgb_40x24_q90_420_restart3.jpg",
            "gray_33x31_q75_progressive.jpg",
        ] {
            let bytes = try fixtureBytes(name)
            let progressive = name.contains("progressive")
            // A sequential file missing only its EOI marker is complete; any shorter cut loses data.
            let lastCut = progressive ? bytes.count - 1 : bytes.count - 3
            for cut in 0...lastCut {
                XCTAssertThrowsError(try JPEG.decode(Array(bytes[0..<cut]), file: name), "\(name) cut at \(cut)") {
                    XCTAssertTrue($0 is ImageCodecError, "\($0)")
                    XCTAssertTrue("\($0)".hasPrefix("\(name): JPEG: "), "\($0)")
                }
            }
            if !progressive { XCTAssertNoThrow(try JPEG.decode(Array(bytes.dropLast(2)))) }
        }
    }

    func testCorruptEntropyCodedDataIsReported() throws {
        let good = try fixtureBytes("rgb_7x5_q90_420.jpg")
        let sos = try XCTUnwrap(markerOffset(good, 0xDA))
        let dataStart = sos + 2 + (Int(good[sos + 2]) << 8 | Int(good[sos + 3]))
        let eoi = try XCTUnwrap(markerOffset(good, 0xD9, from: dataStart))
        // All-ones bits (FF 00 is a stuffed 0xFF) are no code of any table an encoder writes.
        var ones = Array(good[0..<dataStart])
        for _ in 0..<((eoi - dataStart) / 2 + 1) { ones += [0xFF, 0x00] }
        assertRejects(ones + [0xFF, 0xD9], "no Huffman code")
        // A restart marker where none is expected stops the data early.
        var early = Array(good[0..<(dataStart + 2)])
        early += [0xFF, 0xD0] + good[(dataStart + 2)...]
        XCTAssertThrowsError(try JPEG.decode(early)) { XCTAssertTrue($0 is ImageCodecError, "\($0)") }
        // A scan that uses a Huffman table no DHT defined.
        var noTable = good
        noTable[sos + 6] = 0x33
        assertRejects(noTable, "Huffman table 3, which is not defined")
    }

    func testMutatedJPEGsNeverCrash() throws {
        var rng = RandomGenerator(seed: 7)
        let seeds = try [
            "rgb_7x5_q90_420.jpg", "rgb_19x23_q100_444_progressive.jpg", "rgb_40x24_q90_420_restart3.jpg",
            "gray_21x13_h2v2.jpg", "cmyk_13x11_q90.jpg", "rgb_30x26_440_progressive_restart.jpg",
        ]
        .map(fixtureBytes)
        var decoded = 0
        for i in 0..<3000 {
            var bytes = seeds[i % seeds.count]
            for _ in 0..<(1 + rng.int(below: 4)) {
                let at = rng.int(below: bytes.count)
                switch rng.int(below: 4) {
                case 0: bytes[at] = UInt8(rng.int(below: 256))
                case 1: bytes.removeSubrange(at..<min(bytes.count, at + rng.int(below: 8) + 1))
                case 2: bytes.insert(UInt8(rng.int(below: 256)), at: at)
                default: bytes[at] ^= UInt8(1 << rng.int(below: 8))
                }
                if bytes.isEmpty { bytes = [0] }
            }
            do {
                let image = try ImageFile.decode(bytes, limits: ImageLimits(maxPixels: 1 << 16))
                XCTAssertEqual(image.pixels.count, image.width * image.height * 3)
                decoded += 1
            } catch is ImageCodecError {
            } catch {
                XCTFail("unexpected error type \(error)")
            }
        }
        XCTAssertGreaterThan(decoded, 0, "some mutations only touch pixel data and still decode")
    }

    func testDecodesA640x480JPEGQuickly() throws {
        let bytes = try fixtureBytes("speed_640x480_q85_420.jpg")
        var image = try JPEG.decode(bytes)
        XCTAssertEqual(image.width, 640)
        XCTAssertEqual(image.height, 480)
        let runs = 10
        let start = Date()
        for _ in 0..<runs { image = try JPEG.decode(bytes) }
        let milliseconds = Date().timeIntervalSince(start) * 1000 / Double(runs)
        print("JPEG 640x480 4:2:0 q85 (\(bytes.count) bytes): \(String(format: "%.2f", milliseconds)) ms per decode")
        XCTAssertLessThan(milliseconds, 250, "far slower than expected (50 ms in a release build)")
    }
}
