import Foundation
import HFTokenizers
import XCTest

/// Arbitrary Unicode never crashes and round-trips; the byte table is GPT-2's; encoding is fast.
final class HFTokenizerRobustnessTests: XCTestCase {
    func testByteLevelAlphabetIsGPT2Table() {
        let table = ByteLevelAlphabet.scalarForByte
        XCTAssertEqual(Set(table).count, 256)
        XCTAssertEqual(table[0x20], "Ġ")
        XCTAssertEqual(table[0x0A], "Ċ")
        XCTAssertEqual(table[0x21], "!")
        XCTAssertEqual(table[0xAD], "\u{143}")
        XCTAssertEqual(table[0x00], "\u{100}")
        for byte in 0..<256 { XCTAssertEqual(ByteLevelAlphabet.byte(for: table[byte]), UInt8(byte)) }
        XCTAssertNil(ByteLevelAlphabet.byte(for: " "))
        XCTAssertEqual(ByteLevelAlphabet.decode("Ġhi"), Array(" hi".utf8))
        XCTAssertEqual(ByteLevelAlphabet.decode("a b"), Array("a b".utf8), "a space is not in the table: raw UTF-8")
    }

    /// Random strings of awkward scalars: combining marks without a base, joiners, astral letters and digits,
    /// every kind of whitespace, CR/LF runs, emoji modifiers, pieces of special tokens.
    private func randomAwkwardStrings(count: Int, seed: UInt64) -> [String] {
        let alphabet: [String] = [
            "a", "Z", "é", "e\u{301}", "\u{301}", "\u{200D}", "\u{200B}", "\u{FEFF}", "\u{0B}", "\u{85}", "\u{A0}",
            "\u{3000}", "\u{2028}", "\r", "\n", "\r\n", "\t", " ", "  ", "'s", "'LL", "7", "٣", "Ⅻ", "½", "𝔘", "𝟘",
            "😀", "👍🏽", "👨‍👩‍👧", "日", "本", "한", "<|im", "_end|>", "<", "|", ">", "</", "s>", "<s", "$", "...",
            "\u{0}", "\u{1F}", "\u{7F}", "\u{E000}", "\u{10FFFF}", "ﬁ", "Å", "A\u{30A}", "Ω", "ǅ", "ß",
        ]
        var state = seed
        func next() -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(state >> 33)
        }
        return (0..<count).map { _ in (0..<(next() % 24)).map { _ in alphabet[next() % alphabet.count] }.joined() }
    }

    func testArbitraryTextRoundTrips() throws {
        let llama = try HFTokenizer(directory: FixtureFiles.directory("llama-tiny"))
        let qwen = try HFTokenizer(directory: FixtureFiles.directory("qwen2-tiny"))
        for text in randomAwkwardStrings(count: 400, seed: 11) {
            // No normalizer and no stripping added tokens in these strings: bytes come back unchanged.
            XCTAssertEqual(llama.decode(llama.encode(text)), text, text.debugDescription)
            // NFC is applied between special tokens; none of the strings forms one, so it applies to all of it.
            let ids = qwen.encode(text)
            XCTAssertEqual(qwen.decode(ids), text.precomposedStringWithCanonicalMapping, text.debugDescription)
            XCTAssertTrue(ids.allSatisfy { $0 >= 0 && Int($0) < qwen.vocabularySize })
        }
    }

    func testLongInputsWithoutSpacesOrWithOnlySpaces() throws {
        let qwen = try HFTokenizer(directory: FixtureFiles.directory("qwen2-tiny"))
        let long = String(repeating: "abcdefghij", count: 2000)
        XCTAssertEqual(qwen.decode(qwen.encode(long)), long)
        let spaces = String(repeating: " ", count: 5000) + "x" + String(repeating: "\n", count: 3000)
        XCTAssertEqual(qwen.decode(qwen.encode(spaces)), spaces)
    }

    func testDecodeSkippingSpecialTokens() throws {
        let qwen = try HFTokenizer(directory: FixtureFiles.directory("qwen2-tiny"))
        let ids = qwen.encode("<|im_start|>user\nhi<|im_end|> <tool_call>")
        XCTAssertEqual(qwen.decode(ids, skippingSpecialTokens: true), "user\nhi <tool_call>")
        XCTAssertEqual(qwen.tokenID("<|im_start|>"), 601)
        XCTAssertFalse(qwen.isSpecial(try XCTUnwrap(qwen.tokenID("<tool_call>"))))
    }

    /// About 10 KB of English-like text with many distinct words (most of them new to the word cache), encoded
    /// by a fresh tokenizer (cold cache), then again (warm).
    func testEncodingTenKilobytesIsFast() throws {
        let syllables = [
            "the", "qu", "ick", "br", "own", "fox", "ju", "mps", "ov", "er", "la", "zy", "com", "mit",
            "tee", "re", "port", "due", "in", "march", "she", "did", "n't", "think", "ar", "rive",
        ]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(state >> 33) % n
        }
        var text = ""
        while text.utf8.count < 10_000 {
            let word = (0...next(3)).map { _ in syllables[next(syllables.count)] }.joined()
            text += next(10) == 0 ? "\(word.capitalized) \(next(100_000))" : word
            text += ["", "", "", ",", ".", "'s", "!\n"][next(7)] + " "
        }
        for name in ["qwen2-tiny", "llama-tiny"] {
            let tokenizer = try HFTokenizer(directory: FixtureFiles.directory(name))
            let start = Date()
            let ids = tokenizer.encode(text)
            let cold = Date().timeIntervalSince(start)
            let warmStart = Date()
            _ = tokenizer.encode(text)
            let warm = Date().timeIntervalSince(warmStart)
            XCTAssertEqual(tokenizer.decode(ids), text)
            print(
                String(
                    format: "%@: encoded %d bytes into %d tokens in %.1f ms cold, %.1f ms warm",
                    name, text.utf8.count, ids.count, cold * 1000, warm * 1000))
            // Generous bound for a loaded shared machine; the target is well under 50 ms.
            XCTAssertLessThan(cold, 0.5)
        }
    }
}
