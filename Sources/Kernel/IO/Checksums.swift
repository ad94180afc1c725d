/// The checksums PNG and zlib streams carry.
public enum Checksum {
    private static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 (ISO 3309 / PNG, reflected polynomial 0xEDB88320), continuing from `crc` (0 to start).
    public static func crc32<C: Collection>(_ bytes: C, continuing crc: UInt32 = 0) -> UInt32
    where C.Element == UInt8 {
        var c = ~crc
        crcTable.withUnsafeBufferPointer { table in
            for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        return ~c
    }

    /// Adler-32 (RFC 1950), continuing from `adler` (1 to start).
    public static func adler32<C: Collection>(_ bytes: C, continuing adler: UInt32 = 1) -> UInt32
    where C.Element == UInt8 {
        var a = adler & 0xFFFF
        var b = adler >> 16
        var pending = 0
        for byte in bytes {
            a += UInt32(byte)
            b += a
            pending += 1
            if pending == 5552 {  // the largest run before b can overflow 32 bits
                a %= 65521
                b %= 65521
                pending = 0
            }
        }
        return ((b % 65521) << 16) | (a % 65521)
    }
}
