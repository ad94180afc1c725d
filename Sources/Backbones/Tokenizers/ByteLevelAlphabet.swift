/// GPT-2's `bytes_to_unicode` table: every byte gets a printable Unicode scalar so that byte-level BPE tokens are
/// ordinary strings. Printable Latin-1 bytes map to themselves; the other 68 bytes map to U+0100... in byte order
/// (so the space byte 0x20 becomes "Ġ" U+0120 and the newline 0x0A becomes "Ċ" U+010A).
public enum ByteLevelAlphabet {
    /// The scalar standing for each byte.
    public static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The inverse table, indexed by scalar value (all table scalars are below 0x144); -1 for scalars that stand
    /// for no byte.
    static let byteForScalarValue: [Int16] = {
        var inverse = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalarForByte.enumerated() { inverse[Int(scalar.value)] = Int16(byte) }
        return inverse
    }()

    /// The byte a scalar stands for, or nil if it is not in the alphabet.
    public static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let v = Int(scalar.value)
        guard v < byteForScalarValue.count else { return nil }
        let b = byteForScalarValue[v]
        return b < 0 ? nil : UInt8(b)
    }

    /// The byte-level form of UTF-8 bytes (what the ByteLevel pre-tokenizer produces).
    public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var scalars = String.UnicodeScalarView()
        for b in bytes { scalars.append(scalarForByte[Int(b)]) }
        return String(scalars)
    }

    /// The bytes of a token as the ByteLevel decoder sees them: each scalar mapped back to its byte when all of
    /// them are in the alphabet, else the token's own UTF-8 (as Hugging Face does for added tokens like "\n").
    public static func decode(_ token: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let b = byte(for: scalar) else { return Array(token.utf8) }
            bytes.append(b)
        }
        return bytes
    }
}
