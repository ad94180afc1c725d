/// Netpbm colour images: writes binary P6; reads binary P6 and ASCII P3 with `#` comments in the header and
/// any maxval from 1 to 255 (values are rescaled to 0...255).
public enum PPM {
    /// The bytes of a P6 file holding `image`.
    public static func encode(_ image: Image) -> [UInt8] {
        Array("P6\n\(image.width) \(image.height)\n255\n".utf8) + image.pixels
    }

    /// Decodes P6 or P3 bytes; `file` names the source in errors.
    public static func decode(_ bytes: [UInt8], file: String = "<memory>", limits: ImageLimits = .standard) throws
        -> Image
    {
        var reader = Reader(bytes: bytes, file: file)
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "P"),
            bytes[1] == UInt8(ascii: "6") || bytes[1] == UInt8(ascii: "3")
        else {
            throw reader.fail("missing the P6 or P3 magic number")
        }
        let binary = bytes[1] == UInt8(ascii: "6")
        reader.position = 2
        let width = try reader.number("width")
        let height = try reader.number("height")
        try limits.check(width: width, height: height, format: "PPM", file: file)
        let maxval = try reader.number("maxval")
        guard maxval >= 1 else { throw reader.fail("maxval \(maxval) must be at least 1") }
        guard maxval <= 255 else {
            throw reader.fail("maxval \(maxval) is not supported (only 8-bit samples, maxval <= 255)")
        }
        let count = width * height * 3
        var pixels: [UInt8]
        if binary {
            guard reader.position < bytes.count, reader.isSpace(bytes[reader.position]) else {
                throw reader.fail("expected one whitespace byte after maxval")
            }
            let start = reader.position + 1
            let available = bytes.count - start
            guard available >= count else {
                throw reader.fail(
                    "pixel data is truncated: \(width)x\(height) needs \(count) bytes, found \(available)")
            }
            pixels = Array(bytes[start..<(start + count)])
            // A sample above maxval is invalid, and rescaling it would not fit in a byte.
            if maxval < 255, let i = pixels.firstIndex(where: { Int($0) > maxval }) {
                throw reader.fail("sample \(i) is \(pixels[i]), above maxval \(maxval)")
            }
        } else {
            // ASCII samples need at least two bytes each, so the file size bounds the allocation.
            guard bytes.count - reader.position >= 2 * count - 1 else {
                throw reader.fail("pixel data is truncated: \(width)x\(height) needs \(count) samples")
            }
            pixels = [UInt8](repeating: 0, count: count)
            for i in 0..<count {
                let v = try reader.number(
                    "sample \(i)", atEnd: "pixel data is truncated: the file ends before sample \(i) of \(count)")
                guard v <= maxval else { throw reader.fail("sample \(i) is \(v), above maxval \(maxval)") }
                pixels[i] = UInt8(v)
            }
        }
        if maxval != 255 {
            for i in 0..<count { pixels[i] = UInt8((Int(pixels[i]) * 255 + maxval / 2) / maxval) }
        }
        return Image(width: width, height: height, pixels: pixels)
    }

    private struct Reader {
        let bytes: [UInt8]
        let file: String
        var position = 0

        func fail(_ reason: String) -> ImageCodecError { ImageCodecError(file: file, reason: "PPM: " + reason) }

        func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 10 || b == 13 || b == 11 || b == 12 }

        /// Skips whitespace and comments, then reads a decimal number; `atEnd` is the error at the end of the file.
        mutating func number(_ what: String, atEnd: String? = nil) throws -> Int {
            while position < bytes.count {
                if isSpace(bytes[position]) {
                    position += 1
                } else if bytes[position] == UInt8(ascii: "#") {
                    while position < bytes.count && bytes[position] != 10 && bytes[position] != 13 { position += 1 }
                } else {
                    break
                }
            }
            guard position < bytes.count else { throw fail(atEnd ?? "file ends before the \(what)") }
            var value = 0
            var digits = 0
            while position < bytes.count, bytes[position] >= 48, bytes[position] <= 57 {
                value = value * 10 + Int(bytes[position] - 48)
                digits += 1
                position += 1
                guard digits <= 9 else { throw fail("the \(what) has too many digits") }
            }
            guard digits > 0 else {
                throw fail("expected a number for the \(what) at byte \(position), found \(describe(bytes[position]))")
            }
            if position < bytes.count && !isSpace(bytes[position]) && bytes[position] != UInt8(ascii: "#") {
                throw fail("unexpected \(describe(bytes[position])) after the \(what) at byte \(position)")
            }
            return value
        }

        func describe(_ b: UInt8) -> String {
            (b >= 33 && b < 127) ? "'\(Character(UnicodeScalar(b)))'" : "byte \(b)"
        }
    }
}
