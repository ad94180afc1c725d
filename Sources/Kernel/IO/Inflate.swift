/// A small DEFLATE decoder (RFC 1951: stored, fixed-Huffman and dynamic-Huffman blocks) and the zlib wrapper
/// around it (RFC 1950), after Mark Adler's `puff`. Written for correctness and bounded memory, not speed:
/// every malformed stream ends in `InflateError`, and output never grows past `maxOutput` bytes.
public enum Inflate {
    /// A malformed or oversized stream, with what was wrong.
    public struct InflateError: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// Decompresses a zlib stream (2-byte header, deflate data, big-endian Adler-32), checking the header and
    /// the checksum. Throws if the output would exceed `maxOutput` bytes.
    public static func zlibDecompress(_ bytes: [UInt8], maxOutput: Int) throws -> [UInt8] {
        guard bytes.count >= 6 else { throw InflateError(reason: "zlib stream of \(bytes.count) bytes is too short") }
        let cmf = bytes[0]
        let flg = bytes[1]
        guard cmf & 0x0F == 8 else {
            throw InflateError(reason: "zlib compression method \(cmf & 0x0F) is not deflate (8)")
        }
        guard cmf >> 4 <= 7 else { throw InflateError(reason: "zlib window size field \(cmf >> 4) is above 7") }
        guard (UInt16(cmf) << 8 | UInt16(flg)) % 31 == 0 else {
            throw InflateError(reason: "zlib header check bits are wrong")
        }
        guard flg & 0x20 == 0 else { throw InflateError(reason: "zlib preset dictionaries are not supported") }
        var decoder = Decoder(input: bytes, position: 2, maxOutput: maxOutput)
        try decoder.run()
        let end = decoder.position  // the byte after the last deflate block (decoder realigns to a byte)
        guard end + 4 <= bytes.count else {
            throw InflateError(reason: "zlib stream ends before its Adler-32 checksum")
        }
        let stored =
            UInt32(bytes[end]) << 24 | UInt32(bytes[end + 1]) << 16 | UInt32(bytes[end + 2]) << 8
            | UInt32(bytes[end + 3])
        let actual = Checksum.adler32(decoder.output)
        guard stored == actual else {
            throw InflateError(reason: "zlib Adler-32 mismatch: stored \(hex(stored)), computed \(hex(actual))")
        }
        return decoder.output
    }

    /// Decompresses raw deflate data starting at `bytes[0]`.
    public static func rawDecompress(_ bytes: [UInt8], maxOutput: Int) throws -> [UInt8] {
        var decoder = Decoder(input: bytes, position: 0, maxOutput: maxOutput)
        try decoder.run()
        return decoder.output
    }

    static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    /// A canonical Huffman code as counts per length and symbols ordered by code.
    private struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int]

        /// Builds the code from code lengths; `left` is 0 for a complete code, > 0 for an incomplete one and
        /// < 0 for an over-subscribed one.
        init(lengths: ArraySlice<Int>) {
            symbols = [Int](repeating: 0, count: lengths.count)
            for l in lengths { counts[l] += 1 }
            var left = 1
            for len in 1..<16 {
                left <<= 1
                left -= counts[len]
                if left < 0 { break }
            }
            self.left = left
            var offsets = [Int](repeating: 0, count: 16)
            for len in 1..<15 { offsets[len + 1] = offsets[len] + counts[len] }
            for (symbol, l) in lengths.enumerated() where l != 0 {
                symbols[offsets[l]] = symbol
                offsets[l] += 1
            }
        }
        var left = 0
    }

    private static let lengthBase = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
        35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
    ]
    private static let lengthExtra = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ]
    private static let distanceBase = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
        1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ]
    private static let distanceExtra = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8,
        9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
    ]
    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    private static let fixedCodes: (Huffman, Huffman) = {
        var lengths = [Int](repeating: 8, count: 288)
        for i in 144..<256 { lengths[i] = 9 }
        for i in 256..<280 { lengths[i] = 7 }
        return (Huffman(lengths: lengths[...]), Huffman(lengths: [Int](repeating: 5, count: 30)[...]))
    }()

    private struct Decoder {
        let input: [UInt8]
        var position: Int
        let maxOutput: Int
        var output: [UInt8] = []
        var bitBuffer = 0
        var bitCount = 0

        init(input: [UInt8], position: Int, maxOutput: Int) {
            self.input = input
            self.position = position
            self.maxOutput = maxOutput
            output.reserveCapacity(min(maxOutput, 1 << 22))
        }

        mutating func bits(_ need: Int) throws -> Int {
            var value = bitBuffer
            while bitCount < need {
                guard position < input.count else {
                    throw InflateError(reason: "deflate data ends in the middle of a block")
                }
                value |= Int(input[position]) << bitCount
                position += 1
                bitCount += 8
            }
            bitBuffer = value >> need
            bitCount -= need
            return value & ((1 << need) - 1)
        }

        mutating func run() throws {
            var last = false
            while !last {
                last = try bits(1) == 1
                switch try bits(2) {
                case 0: try stored()
                case 1: try codes(Inflate.fixedCodes.0, Inflate.fixedCodes.1)
                case 2: try dynamic()
                default: throw InflateError(reason: "deflate block type 3 is invalid")
                }
            }
            bitBuffer = 0
            bitCount = 0  // drop the bits left in the last byte; `position` is then the next whole byte
        }

        mutating func append(_ byte: UInt8) throws {
            guard output.count < maxOutput else {
                throw InflateError(reason: "decompressed data is larger than the expected \(maxOutput) bytes")
            }
            output.append(byte)
        }

        mutating func stored() throws {
            bitBuffer = 0
            bitCount = 0
            guard position + 4 <= input.count else { throw InflateError(reason: "stored block header is truncated") }
            let length = Int(input[position]) | Int(input[position + 1]) << 8
            let complement = Int(input[position + 2]) | Int(input[position + 3]) << 8
            guard length == (~complement & 0xFFFF) else {
                throw InflateError(reason: "stored block length \(length) does not match its complement")
            }
            position += 4
            guard position + length <= input.count else { throw InflateError(reason: "stored block is truncated") }
            guard output.count + length <= maxOutput else {
                throw InflateError(reason: "decompressed data is larger than the expected \(maxOutput) bytes")
            }
            output.append(contentsOf: input[position..<(position + length)])
            position += length
        }

        mutating func decode(_ h: Huffman) throws -> Int {
            var code = 0
            var first = 0
            var index = 0
            for len in 1..<16 {
                code |= try bits(1)
                let count = h.counts[len]
                if code - count < first { return h.symbols[index + (code - first)] }
                index += count
                first += count
                first <<= 1
                code <<= 1
            }
            throw InflateError(reason: "invalid Huffman code in deflate data")
        }

        mutating func codes(_ lengthCode: Huffman, _ distanceCode: Huffman) throws {
            while true {
                let symbol = try decode(lengthCode)
                if symbol < 256 {
                    try append(UInt8(symbol))
                } else if symbol == 256 {
                    return
                } else {
                    let s = symbol - 257
                    guard s < 29 else { throw InflateError(reason: "invalid length symbol \(symbol) in deflate data") }
                    let length = Inflate.lengthBase[s] + (try bits(Inflate.lengthExtra[s]))
                    let d = try decode(distanceCode)
                    guard d < 30 else { throw InflateError(reason: "invalid distance symbol \(d) in deflate data") }
                    let distance = Inflate.distanceBase[d] + (try bits(Inflate.distanceExtra[d]))
                    guard distance <= output.count else {
                        throw InflateError(reason: "deflate distance \(distance) reaches before the start of the data")
                    }
                    guard output.count + length <= maxOutput else {
                        throw InflateError(reason: "decompressed data is larger than the expected \(maxOutput) bytes")
                    }
                    let start = output.count - distance
                    for i in 0..<length { output.append(output[start + i]) }
                }
            }
        }

        mutating func dynamic() throws {
            let literalCount = try bits(5) + 257
            let distanceCount = try bits(5) + 1
            let codeLengthCount = try bits(4) + 4
            guard literalCount <= 286, distanceCount <= 30 else {
                throw InflateError(reason: "dynamic block declares too many codes (\(literalCount), \(distanceCount))")
            }
            var lengths = [Int](repeating: 0, count: 320)
            for i in 0..<codeLengthCount { lengths[Inflate.codeLengthOrder[i]] = try bits(3) }
            let lengthsCode = Huffman(lengths: lengths[0..<19])
            guard lengthsCode.left == 0 else {
                throw InflateError(reason: "dynamic block has an incomplete code-length code")
            }
            var index = 0
            let total = literalCount + distanceCount
            while index < total {
                var symbol = try decode(lengthsCode)
                if symbol < 16 {
                    lengths[index] = symbol
                    index += 1
                    continue
                }
                var value = 0
                if symbol == 16 {
                    guard index > 0 else {
                        throw InflateError(reason: "dynamic block repeats a length before the first one")
                    }
                    value = lengths[index - 1]
                    symbol = 3 + (try bits(2))
                } else if symbol == 17 {
                    symbol = 3 + (try bits(3))
                } else {
                    symbol = 11 + (try bits(7))
                }
                guard index + symbol <= total else { throw InflateError(reason: "dynamic block code lengths overflow") }
                for _ in 0..<symbol {
                    lengths[index] = value
                    index += 1
                }
            }
            guard lengths[256] != 0 else { throw InflateError(reason: "dynamic block has no end-of-block code") }
            let lengthCode = Huffman(lengths: lengths[0..<literalCount])
            let literalLengths = lengths[0..<literalCount]
            guard lengthCode.left == 0 || (lengthCode.left > 0 && onlyLengthOne(literalLengths)) else {
                throw InflateError(reason: "dynamic block has a bad literal/length code")
            }
            let distanceLengths = Array(lengths[literalCount..<total])
            let distanceCode = Huffman(lengths: distanceLengths[...])
            guard distanceCode.left == 0 || (distanceCode.left > 0 && onlyLengthOne(distanceLengths[...])) else {
                throw InflateError(reason: "dynamic block has a bad distance code")
            }
            try codes(lengthCode, distanceCode)
        }

        /// Incomplete codes are allowed only when every used length is 1 (a code with a single symbol), as
        /// in zlib.
        func onlyLengthOne(_ lengths: ArraySlice<Int>) -> Bool { lengths.allSatisfy { $0 == 0 || $0 == 1 } }
    }
}
