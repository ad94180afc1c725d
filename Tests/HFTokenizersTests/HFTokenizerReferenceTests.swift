import Foundation
import HFTokenizers
import XCTest

/// Encodings and decodings recorded with the Hugging Face `tokenizers` library (see make_fixtures.py) must be
/// reproduced exactly.
final class HFTokenizerReferenceTests: XCTestCase {
    /// Compares every recorded encoding, decoding, single-token text, the vocabulary size and EOS ids.
    private func checkAgainstReference(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let directory = FixtureFiles.directory(name)
        let tokenizer = try HFTokenizer(directory: directory)
        let reference = try FixtureFiles.decode(
            TokenizerReference.self, directory.appendingPathComponent("tokenizer_reference.json"))

        XCTAssertEqual(tokenizer.vocabularySize, reference.vocabulary_size, name, file: file, line: line)
        XCTAssertEqual(tokenizer.endOfSequenceIDs, Set(reference.end_of_sequence_ids), name, file: file, line: line)

        XCTAssertGreaterThanOrEqual(reference.encodings.count, 30)
        for entry in reference.encodings {
            XCTAssertEqual(
                tokenizer.encode(entry.text), entry.ids, "\(name) encode \(entry.text.debugDescription)",
                file: file, line: line)
            XCTAssertEqual(
                tokenizer.decode(entry.ids), entry.decoded, "\(name) decode \(entry.text.debugDescription)",
                file: file, line: line)
        }

        // Random strings of awkward pieces: encodings only (a failure reports the first few).
        XCTAssertGreaterThanOrEqual(reference.fuzz_encodings.count, 100)
        var fuzzFailures = 0
        for entry in reference.fuzz_encodings {
            let ids = tokenizer.encode(entry.text)
            guard ids != entry.ids else { continue }
            fuzzFailures += 1
            if fuzzFailures <= 5 {
                XCTFail("\(name) encode \(entry.text.debugDescription): \(ids) != \(entry.ids)", file: file, line: line)
            }
        }
        XCTAssertEqual(fuzzFailures, 0, "\(name): fuzz mismatches", file: file, line: line)

        for entry in reference.decodes {
            XCTAssertEqual(
                tokenizer.decode(entry.ids), entry.text, "\(name) decode case \(entry.label)", file: file, line: line)
        }

        XCTAssertEqual(reference.token_texts.count, tokenizer.vocabularySize)
        var mismatches = 0
        for (id, text) in reference.token_texts.enumerated() where tokenizer.tokenText(Int32(id)) != text {
            mismatches += 1
            if mismatches <= 5 {
                XCTFail(
                    "\(name) tokenText(\(id)) = \(tokenizer.tokenText(Int32(id)).debugDescription), "
                        + "expected \(text.debugDescription)", file: file, line: line)
            }
        }
        XCTAssertEqual(mismatches, 0, "\(name): tokenText mismatches", file: file, line: line)
        XCTAssertNil(tokenizer.tokenText(Int32(tokenizer.vocabularySize)))
        XCTAssertNil(tokenizer.tokenText(-1))
    }

    func testQwen2StyleTokenizerMatchesReference() throws {
        try checkAgainstReference("qwen2-tiny")
    }

    func testGPT2StyleTokenizerMatchesReference() throws {
        try checkAgainstReference("llama-tiny")
    }

    /// The two fixtures hold the two merge formats, so both are exercised above; make sure that stays true.
    func testFixturesCoverBothMergeFormats() throws {
        let pairs = try FixtureFiles.jsonObject(
            FixtureFiles.directory("qwen2-tiny").appendingPathComponent("tokenizer.json"))
        let strings = try FixtureFiles.jsonObject(
            FixtureFiles.directory("llama-tiny").appendingPathComponent("tokenizer.json"))
        let pairMerges = try XCTUnwrap((pairs["model"] as? [String: Any])?["merges"] as? [Any])
        let stringMerges = try XCTUnwrap((strings["model"] as? [String: Any])?["merges"] as? [Any])
        XCTAssertTrue(pairMerges.first is [Any], "qwen2-tiny merges should be [a, b] pairs")
        XCTAssertTrue(stringMerges.first is String, "llama-tiny merges should be \"a b\" strings")
    }

    /// The copy of the tokenizer next to the bf16 sharded model loads too and agrees.
    func testShardedModelDirectoryTokenizerLoads() throws {
        let original = try HFTokenizer(directory: FixtureFiles.directory("llama-tiny"))
        let copy = try HFTokenizer(directory: FixtureFiles.directory("llama-tiny-bf16-sharded"))
        XCTAssertEqual(copy.encode("The quick brown fox"), original.encode("The quick brown fox"))
        XCTAssertEqual(copy.endOfSequenceIDs, original.endOfSequenceIDs)
    }

    /// Pre-tokenizer, normalizer and model-flag variants of the GPT-2-style tokenizer (tokenizer_variants.json):
    /// the base file is patched as recorded and must reproduce the library's ids.
    func testVariantsMatchReference() throws {
        let url = FixtureFiles.hfDirectory.appendingPathComponent("tokenizer_variants.json")
        let recorded = try FixtureFiles.decode(TokenizerVariants.self, url)
        let patches = try XCTUnwrap(try FixtureFiles.jsonObject(url)["variants"] as? [[String: Any]])
        let base = try FixtureFiles.jsonObject(FixtureFiles.hfDirectory.appendingPathComponent(recorded.base))
        XCTAssertGreaterThanOrEqual(recorded.variants.count, 8)
        for (variant, patch) in zip(recorded.variants, patches) {
            var patched = base
            for key in ["pre_tokenizer", "normalizer", "added_tokens"] where patch[key] != nil {
                patched[key] = patch[key]
            }
            if let modelPatch = patch["model"] as? [String: Any] {
                var model = try XCTUnwrap(patched["model"] as? [String: Any])
                for (key, value) in modelPatch { model[key] = value }
                patched["model"] = model
            }
            let tokenizer = try HFTokenizer(
                json: try JSONSerialization.data(withJSONObject: patched), fileName: variant.name)
            for entry in variant.encodings {
                XCTAssertEqual(
                    tokenizer.encode(entry.text), entry.ids, "\(variant.name): \(entry.text.debugDescription)")
            }
        }
    }
}
