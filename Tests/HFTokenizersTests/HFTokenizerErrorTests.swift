import Foundation
import HFTokenizers
import XCTest

/// Bad tokenizer files give one clear error that names the file and the key.
final class HFTokenizerErrorTests: XCTestCase {
    /// A minimal valid byte-level BPE file; tests break one part of it.
    private func minimalFile() -> [String: Any] {
        var vocab: [String: Any] = [:]
        for (byte, scalar) in ByteLevelAlphabet.scalarForByte.enumerated() { vocab[String(scalar)] = byte }
        vocab["Ġt"] = 256
        return [
            "version": "1.0",
            "added_tokens": [["id": 257, "content": "<|end|>", "special": true, "normalized": false]],
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            "post_processor": NSNull(),
            "decoder": ["type": "ByteLevel"],
            "model": ["type": "BPE", "vocab": vocab, "merges": ["Ġ t"]],
        ]
    }

    private func load(_ json: [String: Any]) throws -> HFTokenizer {
        try HFTokenizer(json: try JSONSerialization.data(withJSONObject: json), fileName: "dir/tokenizer.json")
    }

    private func assertError(
        _ json: [String: Any], _ expected: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try load(json), file: file, line: line) { error in
            XCTAssertEqual("\(error)", expected, file: file, line: line)
            XCTAssertTrue(error is TokenizerFileError, file: file, line: line)
        }
    }

    private func withModel(_ change: (inout [String: Any]) -> Void) -> [String: Any] {
        var json = minimalFile()
        var model = json["model"] as! [String: Any]
        change(&model)
        json["model"] = model
        return json
    }

    func testMinimalFileLoadsAndEncodes() throws {
        let tokenizer = try load(minimalFile())
        XCTAssertEqual(tokenizer.encode("a t<|end|>"), [97, 256, 257])
        XCTAssertEqual(tokenizer.decode([97, 256, 257]), "a t<|end|>")
        XCTAssertEqual(tokenizer.vocabularySize, 258)
        XCTAssertEqual(tokenizer.endOfSequenceIDs, [])
        XCTAssertEqual(tokenizer.tokenID("<|end|>"), 257)
        XCTAssertTrue(tokenizer.isSpecial(257))
    }

    /// A raw U+FEFF at the start of a JSON string (Foundation's parser would drop it) and a leading byte order mark.
    func testByteOrderMarksInTheFile() throws {
        var json = minimalFile()
        json["added_tokens"] = [["id": 257, "content": "\u{FEFF}<x>", "special": true, "normalized": false]]
        var data = try JSONSerialization.data(withJSONObject: json)
        XCTAssertNotNil(data.range(of: Data([0xEF, 0xBB, 0xBF])), "the writer should leave the mark raw")
        data = Data([0xEF, 0xBB, 0xBF]) + data
        let tokenizer = try HFTokenizer(json: data)
        XCTAssertEqual(tokenizer.encode("<x>\u{FEFF}<x>"), [60, 120, 62, 257])
        XCTAssertEqual(tokenizer.tokenText(257), "\u{FEFF}<x>")
    }

    func testUnsupportedModelType() {
        assertError(
            withModel { $0["type"] = "WordPiece" },
            #"dir/tokenizer.json: model.type is "WordPiece"; supported: BPE"#)
    }

    func testMissingVocab() {
        assertError(withModel { $0["vocab"] = nil }, "dir/tokenizer.json: missing model.vocab")
    }

    func testMissingModel() {
        var json = minimalFile()
        json["model"] = nil
        assertError(json, "dir/tokenizer.json: missing model")
    }

    func testMergeNamingUnknownToken() {
        assertError(
            withModel { $0["merges"] = ["Ġ t", "Ġt zz"] },
            #"dir/tokenizer.json: model.merges[1] names "zz", which is not in model.vocab"#)
    }

    func testMergeWhoseResultIsNotInVocab() {
        assertError(
            withModel { $0["merges"] = [["a", "b"]] },
            #"dir/tokenizer.json: model.merges[0] names "ab", which is not in model.vocab"#)
    }

    func testMalformedMergeString() {
        assertError(
            withModel { $0["merges"] = ["Ġ t x"] },
            #"dir/tokenizer.json: model.merges[0] should be two tokens separated by one space, found "Ġ t x""#)
    }

    func testVocabIDOfWrongType() {
        assertError(
            withModel { model in
                var vocab = model["vocab"] as! [String: Any]
                vocab["Ġt"] = "256"
                model["vocab"] = vocab
            },
            #"dir/tokenizer.json: model.vocab["Ġt"] should be a token id (0 ..< 16777216), found the string "256""#)
    }

    func testMalformedJSON() {
        XCTAssertThrowsError(try HFTokenizer(json: Data("{\"model\": [1, 2".utf8), fileName: "x/tokenizer.json")) {
            error in
            XCTAssertTrue("\(error)".hasPrefix("x/tokenizer.json: not valid JSON"), "\(error)")
        }
        XCTAssertThrowsError(try HFTokenizer(json: Data("[1, 2]".utf8), fileName: "x/tokenizer.json")) { error in
            XCTAssertEqual("\(error)", "x/tokenizer.json: should hold a JSON object, found a list")
        }
    }

    func testUnknownPreTokenizerType() {
        var json = minimalFile()
        json["pre_tokenizer"] = [
            "type": "Sequence",
            "pretokenizers": [
                ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true], ["type": "Metaspace"],
            ],
        ]
        assertError(
            json,
            #"dir/tokenizer.json: pre_tokenizer.pretokenizers[1].type is "Metaspace"; "#
                + "supported: ByteLevel, Split, Digits, Sequence")
    }

    func testPreTokenizerWithoutByteLevel() {
        var json = minimalFile()
        json["pre_tokenizer"] = ["type": "Digits", "individual_digits": true]
        assertError(json, "dir/tokenizer.json: pre_tokenizer has no ByteLevel step; only byte-level BPE is supported")
    }

    func testInvalidSplitRegex() {
        var json = minimalFile()
        json["pre_tokenizer"] = [
            "type": "Sequence",
            "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": "(unclosed"], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "use_regex": false],
            ],
        ]
        assertError(
            json,
            "dir/tokenizer.json: pre_tokenizer.pretokenizers[0].pattern.Regex is not a valid regular expression: "
                + "(unclosed")
    }

    func testUnsupportedSplitBehavior() {
        var json = minimalFile()
        json["pre_tokenizer"] = [
            "type": "Sequence",
            "pretokenizers": [
                ["type": "Split", "pattern": ["String": " "], "behavior": "Sideways", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "use_regex": false],
            ],
        ]
        assertError(
            json,
            #"dir/tokenizer.json: pre_tokenizer.pretokenizers[0].behavior is "Sideways"; "#
                + "supported: Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous")
    }

    func testUnsupportedNormalizer() {
        var json = minimalFile()
        json["normalizer"] = ["type": "Sequence", "normalizers": [["type": "NFC"], ["type": "Lowercase"]]]
        assertError(
            json, #"dir/tokenizer.json: normalizer.normalizers[1].type is "Lowercase"; supported: NFC, Sequence"#)
    }

    func testUnsupportedDecoder() {
        var json = minimalFile()
        json["decoder"] = ["type": "Metaspace"]
        assertError(json, #"dir/tokenizer.json: decoder.type is "Metaspace"; supported: ByteLevel, Sequence"#)
    }

    func testWrongFlagType() {
        var json = minimalFile()
        json["pre_tokenizer"] = ["type": "ByteLevel", "add_prefix_space": "no"]
        assertError(
            json,
            #"dir/tokenizer.json: pre_tokenizer.add_prefix_space should be true or false, found the string "no""#)
    }

    func testAddedTokenWithoutID() {
        var json = minimalFile()
        json["added_tokens"] = [["content": "<x>", "special": true]]
        assertError(json, "dir/tokenizer.json: missing added_tokens[0].id")
    }

    func testMissingFileNamesThePath() throws {
        let directory = try FixtureFiles.temporaryDirectory(self)
        XCTAssertThrowsError(try HFTokenizer(directory: directory)) { error in
            let message = "\(error)"
            XCTAssertTrue(
                message.hasPrefix(directory.appendingPathComponent("tokenizer.json").path + ": cannot read"), message)
        }
    }

    func testBrokenTokenizerConfigIsNamed() throws {
        let directory = try FixtureFiles.temporaryDirectory(self)
        try JSONSerialization.data(withJSONObject: minimalFile())
            .write(to: directory.appendingPathComponent("tokenizer.json"))
        let config = directory.appendingPathComponent("tokenizer_config.json")
        try Data(#"{"eos_token": 5}"#.utf8).write(to: config)
        XCTAssertThrowsError(try HFTokenizer(directory: directory)) { error in
            XCTAssertEqual(
                "\(error)",
                "\(config.path): eos_token should be a string or an object with \"content\", found the number 5")
        }
        try Data(#"{"eos_token": {"content": "<|end|>", "special": true}}"#.utf8).write(to: config)
        XCTAssertEqual(try HFTokenizer(directory: directory).endOfSequenceIDs, [257])
        XCTAssertEqual(try HFTokenizer(directory: directory, endOfSequenceIDs: [1, 2]).endOfSequenceIDs, [1, 2])
    }
}
