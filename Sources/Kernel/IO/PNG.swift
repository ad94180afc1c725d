/// PNG images: an encoder for 8-bit RGB (filter 0, zlib stream of stored deflate blocks) and a decoder for
/// non-interlaced 8-bit grayscale, gray+alpha, RGB, RGBA and palette images with all five row filters and any
/// deflate block type. Alpha is composited over white; the result is always RGB.
public enum PNG {
    /// The eight bytes every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The bytes of a PNG file holding `image` (RGB8, uncompressed deflate blocks, correct CRC-32 and Adler-32).
    public static func encode(_ image: Image) -> [UInt8] {
        precondition(image.width > 0 && image.height > 0, "PNG.encode: empty \(image.width)x\(image.height) image")
        let rowBytes = image.width * 3
        var raw = [UInt8]()
        raw.reserveCapacity(image.height * (rowBytes + 1))
        for y in 0..<image.height {
            raw.append(0)  // filter type 0 (None)
            raw.append(contentsOf: image.pixels[(y * rowBytes)..<((y + 1) * rowBytes)])
        }
        var header = [UInt8]()
        appendBigEndian(UInt32(image.width), to: &header)
        appendBigEndian(UInt32(image.height), to: &header)
        header += [8, 2, 0, 0, 0]  // depth 8, colour type 2 (RGB), deflate, adaptive filters, no interlace
        var file = signature
        appendChunk("IHDR", header, to: &file)
        appendChunk("IDAT", zlibStored(raw), to: &file)
        appendChunk("IEND", [], to: &file)
        return file
    }

    /// A zlib stream holding `data` in stored (uncompressed) deflate blocks of at most 65535 bytes.
    public static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]  // deflate, 32K window, no dictionary, fastest-level hint
        var start = 0
        repeat {
            let length = min(65535, data.count - start)
            let final: UInt8 = start + length == data.count ? 1 : 0
            out.append(final)  // BFINAL bit, BTYPE 00; the rest of the byte is padding
            out += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            out.append(contentsOf: data[start..<(start + length)])
            start += length
        } while start < data.count
        appendBigEndian(Checksum.adler32(data), to: &out)
        return out
    }

    /// Decodes PNG bytes; `file` names the source in errors.
    public static func decode(_ bytes: [UInt8], file: String = "<memory>", limits: ImageLimits = .standard) throws
        -> Image
    {
        func fail(_ reason: String) -> ImageCodecError { ImageCodecError(file: file, reason: "PNG: " + reason) }
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { throw fail("missing the PNG signature") }
        var position = 8
        var width = 0
        var height = 0
        var colourType = -1
        var palette: [UInt8] = []
        var compressed: [UInt8] = []
        var sawEnd = false
        var chunkIndex = 0
        while !sawEnd {
            guard position + 12 <= bytes.count else {
                throw fail(chunkIndex == 0 ? "file ends before the IHDR chunk" : "file ends before the IEND chunk")
            }
            let length = Int(readBigEndian(bytes, position))
            let typeBytes = bytes[(position + 4)..<(position + 8)]
            let type = String(decoding: typeBytes, as: UTF8.self)
            guard typeBytes.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) }) else {
                throw fail("chunk \(chunkIndex) has an invalid type at byte \(position + 4)")
            }
            guard length <= 0x7FFF_FFFF, position + 12 + length <= bytes.count else {
                throw fail("chunk \(type) declares \(length) bytes but the file ends first")
            }
            let dataRange = (position + 8)..<(position + 8 + length)
            let storedCRC = readBigEndian(bytes, position + 8 + length)
            let actualCRC = Checksum.crc32(bytes[(position + 4)..<(position + 8 + length)])
            guard storedCRC == actualCRC else {
                throw fail(
                    "bad CRC in chunk \(type): stored \(Inflate.hex(storedCRC)), computed \(Inflate.hex(actualCRC))")
            }
            if chunkIndex == 0 && type != "IHDR" { throw fail("the first chunk is \(type), not IHDR") }
            switch type {
            case "IHDR":
                guard chunkIndex == 0 else { throw fail("a second IHDR chunk") }
                guard length == 13 else { throw fail("IHDR has \(length) bytes, expected 13") }
                let d = dataRange.lowerBound
                width = Int(readBigEndian(bytes, d))
                height = Int(readBigEndian(bytes, d + 4))
                let depth = bytes[d + 8]
                colourType = Int(bytes[d + 9])
                try limits.check(width: width, height: height, format: "PNG", file: file)
                guard [0, 2, 3, 4, 6].contains(colourType) else { throw fail("invalid colour type \(colourType)") }
                guard depth == 8 else { throw fail("bit depth \(depth) is not supported (only 8-bit images)") }
                guard bytes[d + 10] == 0 else { throw fail("unknown compression method \(bytes[d + 10])") }
                guard bytes[d + 11] == 0 else { throw fail("unknown filter method \(bytes[d + 11])") }
                guard bytes[d + 12] == 0 else { throw fail("interlaced images are not supported") }
            case "PLTE":
                guard length % 3 == 0, length > 0, length <= 768 else { throw fail("PLTE has \(length) bytes") }
                palette = Array(bytes[dataRange])
            case "IDAT":
                guard compressed.count + length <= limits.maxPixels * 5 + 1024 else {
                    throw fail("IDAT data is larger than any image within the size limit")
                }
                compressed.append(contentsOf: bytes[dataRange])
            case "IEND":
                sawEnd = true
            default:
                // Ancillary chunks (lower-case first letter) are skipped; unknown critical ones are refused.
                if typeBytes.first! < 97 { throw fail("unknown critical chunk \(type)") }
            }
            position += 12 + length
            chunkIndex += 1
        }
        guard !compressed.isEmpty else { throw fail("no IDAT chunk") }
        if colourType == 3 && palette.isEmpty { throw fail("palette image without a PLTE chunk") }
        let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colourType]!
        let rowBytes = width * channels
        let expected = height * (rowBytes + 1)
        let raw: [UInt8]
        do {
            raw = try Inflate.zlibDecompress(compressed, maxOutput: expected)
        } catch let error as Inflate.InflateError {
            throw fail("IDAT: \(error.reason)")
        }
        guard raw.count == expected else {
            throw fail("IDAT holds \(raw.count) bytes, expected \(expected) for \(width)x\(height)")
        }
        let samples = try unfilter(raw, rowBytes: rowBytes, height: height, bytesPerPixel: channels, fail: fail)
        return try toRGB(samples, width: width, height: height, colourType: colourType, palette: palette, fail: fail)
    }

    /// Undoes the per-row filters (None, Sub, Up, Average, Paeth).
    static func unfilter(
        _ raw: [UInt8], rowBytes: Int, height: Int, bytesPerPixel bpp: Int,
        fail: (String) -> ImageCodecError
    ) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: rowBytes * height)
        for y in 0..<height {
            let filter = raw[y * (rowBytes + 1)]
            let src = y * (rowBytes + 1) + 1
            let row = y * rowBytes
            for i in 0..<rowBytes {
                let x = raw[src + i]
                let a = i >= bpp ? Int(out[row + i - bpp]) : 0
                let b = y > 0 ? Int(out[row - rowBytes + i]) : 0
                let c = (i >= bpp && y > 0) ? Int(out[row - rowBytes + i - bpp]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) >> 1
                case 4:
                    let p = a + b - c
                    let pa = abs(p - a)
                    let pb = abs(p - b)
                    let pc = abs(p - c)
                    predictor = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
                default: throw fail("row \(y) has invalid filter type \(filter)")
                }
                out[row + i] = x &+ UInt8(truncatingIfNeeded: predictor)
            }
        }
        return out
    }

    static func toRGB(
        _ s: [UInt8], width: Int, height: Int, colourType: Int, palette: [UInt8],
        fail: (String) -> ImageCodecError
    ) throws -> Image {
        let n = width * height
        var px = [UInt8](repeating: 0, count: n * 3)
        // Alpha compositing over white: v * a + 255 * (255 - a), rounded.
        func over(_ v: UInt8, _ a: UInt8) -> UInt8 {
            let alpha = Int(a)
            let mixed: Int = Int(v) * alpha + 255 * (255 - alpha)
            return UInt8((mixed + 127) / 255)
        }
        for i in 0..<n {
            switch colourType {
            case 0:
                px[3 * i] = s[i]
                px[3 * i + 1] = s[i]
                px[3 * i + 2] = s[i]
            case 2:
                px[3 * i] = s[3 * i]
                px[3 * i + 1] = s[3 * i + 1]
                px[3 * i + 2] = s[3 * i + 2]
            case 3:
                let index = Int(s[i])
                guard 3 * index + 2 < palette.count else {
                    throw fail(
                        "pixel \(i % width),\(i / width) uses palette index \(index) beyond the \(palette.count / 3) entries"
                    )
                }
                px[3 * i] = palette[3 * index]
                px[3 * i + 1] = palette[3 * index + 1]
                px[3 * i + 2] = palette[3 * index + 2]
            case 4:
                let g = over(s[2 * i], s[2 * i + 1])
                px[3 * i] = g
                px[3 * i + 1] = g
                px[3 * i + 2] = g
            default:
                let a = s[4 * i + 3]
                px[3 * i] = over(s[4 * i], a)
                px[3 * i + 1] = over(s[4 * i + 1], a)
                px[3 * i + 2] = over(s[4 * i + 2], a)
            }
        }
        return Image(width: width, height: height, pixels: px)
    }

    /// Appends one chunk (length, type, data, CRC-32 of type and data) to a PNG byte stream.
    public static func appendChunk(_ type: String, _ data: [UInt8], to out: inout [UInt8]) {
        appendBigEndian(UInt32(data.count), to: &out)
        let typeAndData = Array(type.utf8) + data
        out += typeAndData
        appendBigEndian(Checksum.crc32(typeAndData), to: &out)
    }

    /// Appends `v` as 4 big-endian bytes.
    public static func appendBigEndian(_ v: UInt32, to out: inout [UInt8]) {
        out += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    static func readBigEndian(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }
}
