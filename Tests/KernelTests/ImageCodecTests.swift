import Foundation
import Kernel
import XCTest

/// The pixel formulas of Fixtures/make_png_fixtures.py (RGB after compositing alpha over white).
private func fixturePixel(_ x: Int, _ y: Int, kind: String) -> [UInt8] {
    func over(_ v: Int, _ a: Int) -> UInt8 { UInt8((v * a + 255 * (255 - a) + 127) / 255) }
    switch kind {
    case "rgb": return [UInt8((x * 37 + y * 11) % 256), UInt8((x * x + 3 * y) % 256), UInt8(((x ^ y) * 17) % 256)]
    case "rgba":
        let a = (x * 40 + y * 30 + 15) % 256
        return [over((x * 50 + 7) % 256, a), over((y * 60 + 3) % 256, a), over((x * y * 13) % 256, a)]
    default:
        let g = UInt8((x * 29 + y * 41) % 256)
        return [g, g, g]
    }
}

private func fixtureURL(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
}

private func testImage(width: Int, height: Int, seed: UInt64) -> Image {
    var rng = RandomGenerator(seed: seed)
    return Image(
        width: width, height: height, pixels: (0..<(width * height * 3)).map { _ in UInt8(rng.int(below: 256)) })
}

final class ImageCodecTests: XCTestCase {
    func testChecksumsMatchKnownValues() {
        XCTAssertEqual(Checksum.crc32(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(Checksum.adler32(Array("Wikipedia".utf8)), 0x11E6_0398)
        XCTAssertEqual(Checksum.adler32([UInt8]()), 1)
        // Long input exercises the periodic modulo.
        let long = [UInt8](repeating: 255, count: 100_000)
        var a: UInt64 = 1
        var b: UInt64 = 0
        for byte in long {
            a = (a + UInt64(byte)) % 65521
            b = (b + a) % 65521
        }
        XCTAssertEqual(Checksum.adler32(long), UInt32(b << 16 | a))
    }

    func testPNGRoundTripIncludingMultipleStoredBlocks() throws {
        for (w, h) in [(1, 1), (32, 32), (7, 3), (200, 120)] {  // 200x120 needs several 64K stored blocks
            let image = testImage(width: w, height: h, seed: UInt64(w * 1000 + h))
            let bytes = PNG.encode(image)
            XCTAssertEqual(try PNG.decode(bytes), image, "\(w)x\(h)")
            XCTAssertEqual(try ImageFile.decode(bytes), image)
        }
    }

    func testPPMRoundTripAndASCIIWithComments() throws {
        let image = testImage(width: 5, height: 4, seed: 3)
        XCTAssertEqual(try PPM.decode(PPM.encode(image)), image)
        let text = "P3\n# a comment\n2 1 # width height\n255\n255 0 0  0 128 255\n"
        let decoded = try PPM.decode(Array(text.utf8))
        XCTAssertEqual(decoded.pixels, [255, 0, 0, 0, 128, 255])
        let binaryWithComment = Array("P6 #c\n1 1\n#m\n255\n".utf8) + [1, 2, 3]
        XCTAssertEqual(try PPM.decode(binaryWithComment).pixels, [1, 2, 3])
        // maxval 15 is rescaled to 0...255.
        XCTAssertEqual(try PPM.decode(Array("P3 1 1 15 15 0 7".utf8)).pixels, [255, 0, 119])
    }

    func testPythonCompressedFixturesDecodeToExpectedPixels() throws {
        for (name, w, h, kind) in [
            ("rgb_filters_dynamic.png", 40, 30, "rgb"), ("rgba_small_fixed.png", 5, 4, "rgba"),
            ("gray_filters.png", 9, 7, "gray"), ("rgb_stored.png", 3, 2, "rgb"),
        ] {
            let image = try ImageFile.read(fixtureURL(name))
            XCTAssertEqual(image.width, w, name)
            XCTAssertEqual(image.height, h, name)
            for y in 0..<h {
                for x in 0..<w {
                    let i = (y * w + x) * 3
                    XCTAssertEqual(
                        Array(image.pixels[i..<(i + 3)]), fixturePixel(x, y, kind: kind), "\(name) at \(x),\(y)")
                }
            }
        }
    }

    func testFileWriteAndReadBack() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("codec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = testImage(width: 9, height: 6, seed: 9)
        for ext in ["png", "ppm"] {
            let url = dir.appendingPathComponent("a.\(ext)")
            try ImageFile.write(image, to: url)
            XCTAssertEqual(try ImageFile.read(url), image)
        }
        XCTAssertThrowsError(try ImageFile.write(image, to: dir.appendingPathComponent("a.jpg")))
        XCTAssertThrowsError(try ImageFile.read(dir.appendingPathComponent("missing.png"))) { error in
            XCTAssertTrue("\(error)".contains("missing.png"), "\(error)")
        }
    }

    /// Each malformed input gives an ImageCodecError naming the file and containing `expected`.
    private func assertRejects(_ bytes: [UInt8], _ expected: String, file: StaticString = #filePath, line: UInt = #line)
    {
        XCTAssertThrowsError(
            try ImageFile.decode(bytes, file: "bad.img", limits: ImageLimits(maxPixels: 1 << 20)),
            file: file, line: line
        ) { error in
            guard let e = error as? ImageCodecError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(e.file, "bad.img", file: file, line: line)
            XCTAssertTrue(e.reason.contains(expected), "'\(e.reason)' lacks '\(expected)'", file: file, line: line)
        }
    }

    private func png(
        width: UInt32, height: UInt32, depth: UInt8 = 8, colour: UInt8 = 2, interlace: UInt8 = 0,
        idat: [UInt8]
    ) -> [UInt8] {
        var header = [UInt8]()
        PNG.appendBigEndian(width, to: &header)
        PNG.appendBigEndian(height, to: &header)
        header += [depth, colour, 0, 0, interlace]
        var file = PNG.signature
        PNG.appendChunk("IHDR", header, to: &file)
        PNG.appendChunk("IDAT", idat, to: &file)
        PNG.appendChunk("IEND", [], to: &file)
        return file
    }

    func testMalformedPNGsAreRejectedWithClearErrors() {
        let good = PNG.encode(testImage(width: 4, height: 3, seed: 1))
        assertRejects([], "not a PNG, PPM (P6/P3) or JPEG")
        assertRejects(Array(good[0..<30]), "file ends")
        var badCRC = good
        badCRC[20] ^= 1
        assertRejects(badCRC, "bad CRC in chunk IHDR")
        var badData = good
        badData[50] ^= 0x40  // inside the IDAT pixel bytes: CRC catches it
        assertRejects(badData, "bad CRC in chunk IDAT")
        let raw = [UInt8](repeating: 0, count: 3 * (1 + 12))
        assertRejects(png(width: 100_000, height: 100_000, idat: PNG.zlibStored(raw)), "exceeds the limit")
        assertRejects(png(width: 0, height: 3, idat: PNG.zlibStored(raw)), "empty image size")
        assertRejects(png(width: 4, height: 3, depth: 16, idat: PNG.zlibStored(raw)), "bit depth 16")
        assertRejects(png(width: 4, height: 3, interlace: 1, idat: PNG.zlibStored(raw)), "interlaced")
        assertRejects(png(width: 4, height: 3, colour: 5, idat: PNG.zlibStored(raw)), "colour type 5")
        assertRejects(png(width: 4, height: 3, idat: PNG.zlibStored(Array(raw.dropLast()))), "expected 39")
        assertRejects(png(width: 4, height: 3, idat: PNG.zlibStored(raw + [0])), "larger than the expected")
        var badFilter = raw
        badFilter[13] = 7
        assertRejects(png(width: 4, height: 3, idat: PNG.zlibStored(badFilter)), "row 1 has invalid filter type 7")
        var badAdler = PNG.zlibStored(raw)
        badAdler[badAdler.count - 1] ^= 1
        assertRejects(png(width: 4, height: 3, idat: badAdler), "Adler-32 mismatch")
        assertRejects(png(width: 4, height: 3, idat: [0x78, 0x01, 0x07, 0, 0, 0]), "block type 3")
        assertRejects(png(width: 4, height: 3, idat: [0x78, 0x02, 0, 0, 0, 0]), "header check")
        assertRejects(png(width: 4, height: 3, colour: 3, idat: PNG.zlibStored(raw)), "without a PLTE")
    }

    func testMalformedPPMsAreRejectedWithClearErrors() {
        assertRejects(Array("P6\n4 4\n255\n".utf8) + [1, 2, 3], "truncated")
        assertRejects(Array("P6\n4 x\n255\n".utf8), "expected a number for the height")
        assertRejects(Array("P6\n4 4\n65535\n".utf8), "maxval 65535")
        assertRejects(Array("P6\n4".utf8), "file ends before the height")
        assertRejects(Array("P6\n99999 99999\n255\n".utf8), "exceeds the limit")
        assertRejects(Array("P6\n4 4 1234567890123\n".utf8), "too many digits")
        assertRejects(Array("P3\n1 1\n255\n1 2 300\n".utf8), "above maxval")
        assertRejects(Array("P3\n2 1\n255\n1 2 3 4 5\n".utf8), "truncated")
        assertRejects(Array("P6 2 2 255".utf8), "whitespace byte after maxval")
    }

    func testMutatedInputsNeverCrash() {
        // A small seeded mutation pass: every outcome must be an image or an ImageCodecError.
        var rng = RandomGenerator(seed: 42)
        var seeds: [[UInt8]] = [
            PNG.encode(testImage(width: 6, height: 5, seed: 2)), PPM.encode(testImage(width: 3, height: 3, seed: 4)),
        ]
        if let fixture = FileManager.default.contents(atPath: fixtureURL("rgb_filters_dynamic.png").path) {
            seeds.append([UInt8](fixture))
        }
        for i in 0..<600 {
            var bytes = seeds[i % seeds.count]
            for _ in 0..<(1 + rng.int(below: 4)) {
                let at = rng.int(below: bytes.count)
                switch rng.int(below: 3) {
                case 0: bytes[at] = UInt8(rng.int(below: 256))
                case 1: bytes.removeSubrange(at..<min(bytes.count, at + rng.int(below: 8) + 1))
                default: bytes.insert(UInt8(rng.int(below: 256)), at: at)
                }
                if bytes.isEmpty { bytes = [0] }
            }
            do {
                _ = try ImageFile.decode(bytes, limits: ImageLimits(maxPixels: 1 << 16))
            } catch is ImageCodecError {
            } catch {
                XCTFail("unexpected error type \(error)")
            }
        }
    }

    func testInflateRejectsDistanceBeforeStart() {
        // Fixed-Huffman block: length symbol 257 (length 3), distance code 0 (distance 1) with no output yet.
        // Bits (LSB first): BFINAL=1, BTYPE=01, then 7-bit code 0000001 for 257 (MSB first), 5-bit distance 00000.
        var bits: [Int] = [1, 1, 0]
        bits += [0, 0, 0, 0, 0, 0, 1]
        bits += [0, 0, 0, 0, 0]
        var bytes = [UInt8](repeating: 0, count: 3)
        for (i, b) in bits.enumerated() where b == 1 { bytes[i / 8] |= UInt8(1 << (i % 8)) }
        XCTAssertThrowsError(try Inflate.rawDecompress(bytes, maxOutput: 100)) { error in
            XCTAssertTrue("\(error)".contains("before the start"), "\(error)")
        }
    }
}
