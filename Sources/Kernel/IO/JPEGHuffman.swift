/// A JPEG Huffman table (ITU T.81 annex C): canonical codes of 1 to 16 bits, decoded with a 9-bit lookahead
/// table for short codes and the `maxCode`/`valueOffset` walk of figure F.16 for longer ones. A class, so the
/// per-block decode passes a reference rather than four arrays.
final class JPEGHuffmanTable {
    /// The lookahead bits of the fast path.
    static let lookaheadBits = 9
    /// Indexed by the next 9 bits: `length << 8 | symbol` for a code of at most 9 bits, 0 for a longer code.
    let lookup: [UInt16]
    /// The largest code of each length 1...16 (index = length), -1 when there is none.
    let maxCode: [Int]
    /// Added to a code of each length to find its symbol's index in `symbols`.
    let valueOffset: [Int]
    let symbols: [UInt8]

    /// Builds the table from the 16 code counts and the symbols of a DHT segment; `isDC` tables hold only
    /// symbols 0...15 (DC difference categories). Throws a reason when the counts do not make a prefix code.
    init(counts: [Int], symbols: [UInt8], isDC: Bool) throws {
        precondition(counts.count == 16)
        guard symbols.count == counts.reduce(0, +), symbols.count <= 256 else {
            throw JPEGFailure("a Huffman table declares \(counts.reduce(0, +)) codes (at most 256)")
        }
        if isDC, let bad = symbols.first(where: { $0 > 15 }) {
            throw JPEGFailure("a DC Huffman table holds symbol \(bad) (at most 15)")
        }
        var lookup = [UInt16](repeating: 0, count: 1 << Self.lookaheadBits)
        var maxCode = [Int](repeating: -1, count: 18)
        var valueOffset = [Int](repeating: 0, count: 18)
        var code = 0
        var index = 0
        for length in 1...16 {
            let n = counts[length - 1]
            if n > 0 {
                valueOffset[length] = index - code
                for _ in 0..<n {
                    // Every code of this length must fit in `length` bits, or the counts make no prefix code.
                    guard code < (1 << length) else {
                        throw JPEGFailure("a Huffman table has more codes than fit in \(length) bits")
                    }
                    if length <= Self.lookaheadBits {
                        let shift = Self.lookaheadBits - length
                        let entry = UInt16(length << 8) | UInt16(symbols[index])
                        for fill in 0..<(1 << shift) { lookup[(code << shift) | fill] = entry }
                    }
                    code += 1
                    index += 1
                }
                maxCode[length] = code - 1
            }
            // As in libjpeg: the codes of each length must leave the all-ones pattern unused.
            guard code < (1 << length) else {
                throw JPEGFailure(
                    "a Huffman table has more codes than fit in \(length) bits (the all-ones code is reserved)")
            }
            code <<= 1
        }
        self.symbols = symbols
        self.lookup = lookup
        self.maxCode = maxCode
        self.valueOffset = valueOffset
    }
}

/// The reason a JPEG is refused; `JPEG.decode` wraps it in an `ImageCodecError` with the file name.
struct JPEGFailure: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// Reads the entropy-coded bits of a scan, most significant bit first, removing the 0x00 stuffed after every
/// 0xFF data byte. It stops at a marker (0xFF followed by a non-zero byte) or at the end of the data and from
/// then on supplies zero bits, as libjpeg does, counting them so a decoder can tell it ran past the data.
struct JPEGBitReader {
    let data: [UInt8]
    /// The next byte to read; at a marker, the marker's first 0xFF.
    private(set) var position: Int
    /// Unconsumed bits, left-aligned (the next bit is bit 63).
    private var buffer: UInt64 = 0
    /// How many bits of `buffer` are valid.
    private var count = 0
    /// Zero bits appended after a marker or the end of the data, still counted in `count` or already consumed.
    private var padding = 0
    private var stopped = false

    init(data: [UInt8], position: Int) {
        self.data = data
        self.position = position
    }

    /// Whether bits beyond the real entropy-coded data were consumed (the scan is truncated or corrupt).
    var ranPastData: Bool { padding > count }

    /// Tops the buffer up to at least 57 bits.
    @inline(__always) private mutating func fill() {
        while count <= 56 {
            var byte: UInt8 = 0
            if !stopped && position < data.count {
                byte = data[position]
                if byte == 0xFF {
                    var next = position + 1
                    while next < data.count && data[next] == 0xFF { next += 1 }  // fill bytes
                    if next < data.count && data[next] == 0 {
                        position = next + 1
                    } else {
                        stopped = true  // a marker (or the end): leave `position` on its 0xFF
                        byte = 0
                        padding += 8
                    }
                } else {
                    position += 1
                }
            } else {
                stopped = true
                padding += 8
            }
            buffer |= UInt64(byte) << UInt64(56 - count)
            count += 8
        }
    }

    /// Decodes one Huffman symbol; throws on a bit pattern that is no code of `table`.
    @inline(__always) mutating func decode(_ table: JPEGHuffmanTable) throws -> Int {
        if count < 16 { fill() }
        let entry = table.lookup[Int(truncatingIfNeeded: buffer >> UInt64(64 - JPEGHuffmanTable.lookaheadBits))]
        if entry != 0 {
            let length = Int(entry >> 8)
            buffer <<= UInt64(length)
            count -= length
            return Int(entry & 0xFF)
        }
        var length = JPEGHuffmanTable.lookaheadBits + 1
        while length <= 16 {
            let code = Int(truncatingIfNeeded: buffer >> UInt64(64 - length))
            if code <= table.maxCode[length] {
                buffer <<= UInt64(length)
                count -= length
                let index = code + table.valueOffset[length]
                guard index >= 0 && index < table.symbols.count else { break }
                return Int(table.symbols[index])
            }
            length += 1
        }
        throw JPEGFailure("corrupt entropy-coded data: a bit pattern that is no Huffman code")
    }

    /// The next `n` (0...16) bits as an unsigned number.
    @inline(__always) mutating func bits(_ n: Int) -> Int {
        if n == 0 { return 0 }
        if count < n { fill() }
        let value = Int(truncatingIfNeeded: buffer >> UInt64(64 - n))
        buffer <<= UInt64(n)
        count -= n
        return value
    }

    /// The next bit.
    @inline(__always) mutating func bit() -> Bool { bits(1) != 0 }

    /// Reads `n` bits and sign-extends them as T.81 F.2.2.1 EXTEND: values below 2^(n-1) are negative.
    @inline(__always) mutating func receiveExtend(_ n: Int) -> Int {
        if n == 0 { return 0 }
        let v = bits(n)
        return v < (1 << (n - 1)) ? v - (1 << n) + 1 : v
    }

    /// Drops the buffered bits and starts again at `position` (after a restart marker was consumed).
    mutating func reset(at newPosition: Int) {
        position = newPosition
        buffer = 0
        count = 0
        padding = 0
        stopped = false
    }
}
