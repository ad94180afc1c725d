import Foundation
import Kernel
import TinyLLaVA
import Transformer
import XCTest

final class TinyLLaVATests: XCTestCase {
    static let vocabulary = [
        "how", "many", "circles", "are", "there", "in", "this", "image", "?", ".", "red", "blue",
        "0", "1", "2", "3", "a", "b",
    ]

    func image(seed: UInt64) -> Image {
        var g = RandomGenerator(seed: seed)
        return Image(width: 32, height: 32, pixels: (0..<(32 * 32 * 3)).map { _ in UInt8(g.int(below: 256)) })
    }

    func model(_ preset: String = "tiny", seed: UInt64 = 1) throws -> TinyLLaVA {
        try TinyLLaVA(preset: preset, vocabulary: TinyLLaVATests.vocabulary, seed: seed)
    }

    func testNamesFollowLLaVAAndHFConventionsAndTinyIsSmall() throws {
        let m = try model()
        let names = Set(m.namedParameters().map(\.name))
        for n in [
            "vision_tower.embeddings.patch_embedding.weight", "vision_tower.embeddings.position_embedding.weight",
            "vision_tower.encoder.layers.0.self_attn.out_proj.weight", "vision_tower.encoder.layers.0.mlp.fc1.weight",
            "vision_tower.encoder.layers.0.layer_norm1.weight", "vision_tower.post_layernorm.bias",
            "mm_projector.0.weight", "mm_projector.2.bias", "model.embed_tokens.weight",
            "model.layers.1.self_attn.q_proj.bias", "model.layers.1.mlp.gate_proj.weight", "model.norm.weight",
        ] {
            XCTAssertTrue(names.contains(n), n)
        }
        XCTAssertEqual(m.parameter(named: "vision_tower.embeddings.patch_embedding.weight")!.shape, [16, 3, 8, 8])
        XCTAssertLessThan(m.parameterCounts.total, 100_000)
        // small ties the head to the embeddings, as Qwen2-0.5B (the study's language model) does; quick does not.
        XCTAssertFalse(try self.model("small").namedParameters().map(\.name).contains("lm_head.weight"))
        XCTAssertTrue(try self.model("quick").namedParameters().map(\.name).contains("lm_head.weight"))
    }

    func testTargetsLandOnAnswerTokensAfterTheImage() throws {
        let m = try model()
        let prompt = m.encodePrompt("<image> how many circles are there ?", hasImage: true)
        let answer = m.encodeAnswer("2 .")
        let batch = Batch(
            prompts: [prompt, m.encodePrompt("how many ?", hasImage: false)], answers: [answer, answer],
            images: [image(seed: 1), nil])
        let out = Autograd.withNoGrad { m.forward(batch) }
        let patches = 16
        let length = prompt.count + answer.count + patches - 1
        XCTAssertEqual(out.logits.shape, [2, length, m.vocabularySize])
        // Row 0: the answer's tokens are predicted from the positions just before them, after the visual block.
        let row0 = Array(out.targets[0..<length])
        let expected =
            [Int32](repeating: Batch.ignoreIndex, count: prompt.count + patches - 2) + answer + [Batch.ignoreIndex]
        XCTAssertEqual(row0, expected)
        XCTAssertEqual(out.targets[length...].filter { $0 != Batch.ignoreIndex }, answer)
    }

    /// `.perExample` is the mean over examples of each example's own token mean: a batch of a one-token answer and
    /// a four-token answer gives the mean of the two losses each example has alone, not the five tokens' mean.
    func testPerExampleAnswerLossWeighsEveryExampleTheSame() throws {
        let m = try model()
        let prompts = [
            m.encodePrompt("<image> how many circles ?", hasImage: true),
            m.encodePrompt("<image> how many ?", hasImage: true),
        ]
        let answers = [m.encodeAnswer("2"), m.encodeAnswer("3 red a blue")]
        let images = [image(seed: 3), image(seed: 4)]
        let alone = (0..<2).map { i in
            Autograd.withNoGrad {
                answerCrossEntropy(m, Batch(prompts: [prompts[i]], answers: [answers[i]], images: [images[i]])).item
            }
        }
        let both = Batch(prompts: prompts, answers: answers, images: images)
        let perExample = Autograd.withNoGrad { answerCrossEntropy(m, both, weighting: .perExample).item }
        let perToken = Autograd.withNoGrad { answerCrossEntropy(m, both).item }
        XCTAssertEqual(perExample, (alone[0] + alone[1]) / 2, accuracy: 1e-5)
        // Answers of 2 and 5 tokens (the end-of-answer token included).
        XCTAssertEqual(perToken, (2 * alone[0] + 5 * alone[1]) / 7, accuracy: 1e-5)
        XCTAssertNotEqual(perExample, perToken, accuracy: 1e-4)
    }

    func testWholeModelGradientMatchesFiniteDifferences() throws {
        let m = try model()
        for (_, t) in m.namedParameters() where t.rank >= 2 { for i in 0..<t.count { t.data[i] *= 8 } }
        let batch = Batch(
            prompts: [m.encodePrompt("how many circles ?", hasImage: true)], answers: [m.encodeAnswer("3 red")],
            images: [image(seed: 2)])
        let checked = [
            "vision_tower.embeddings.patch_embedding.weight", "vision_tower.encoder.layers.0.self_attn.q_proj.weight",
            "vision_tower.encoder.layers.0.layer_norm2.bias", "mm_projector.0.weight", "mm_projector.2.bias",
            "model.layers.0.mlp.down_proj.weight", "model.layers.1.self_attn.v_proj.bias", "model.embed_tokens.weight",
        ]
        let params = m.namedParameters().filter { checked.contains($0.name) }.map(\.tensor)
        XCTAssertEqual(params.count, checked.count)
        let r = GradientCheck.check(
            params, step: 1e-2, absoluteTolerance: 2e-3, relativeTolerance: 3e-2, maxElementsPerInput: 16
        ) { _ in
            let out = m.forward(batch)
            return crossEntropy(out.logits.reshaped([-1, m.vocabularySize]), targets: out.targets)
        }
        XCTAssertTrue(r.passed, "\(r)")
    }

    func testSaveLoadGivesIdenticalLogits() throws {
        let m = try model("quick")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tiny-llava-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try m.save(to: dir)
        XCTAssertTrue(TinyLLaVA.recognizes(dir))
        let loaded = try TinyLLaVA.load(from: dir)
        let batch = Batch(
            prompts: [m.encodePrompt("how many circles ?", hasImage: true)], answers: [m.encodeAnswer("1")],
            images: [image(seed: 3)])
        let a = Autograd.withNoGrad { m.forward(batch).logits.array }
        let b = Autograd.withNoGrad { loaded.forward(batch).logits.array }
        XCTAssertEqual(a, b)
        XCTAssertEqual(loaded.words.words, m.words.words)
    }

    func testGenerationWithCacheMatchesRecomputingEverything() throws {
        let m = try model(seed: 5)
        for (_, t) in m.namedParameters() where t.rank >= 2 { for i in 0..<t.count { t.data[i] *= 20 } }
        let requests = [
            GenerationRequest(tokens: m.encodePrompt("how many circles ?", hasImage: true), image: image(seed: 7)),
            GenerationRequest(tokens: m.encodePrompt("a b", hasImage: false)),
            GenerationRequest(tokens: m.encodePrompt("<image> red", hasImage: true), image: image(seed: 8)),
        ]
        let cached = m.generate(requests, maxNewTokens: 5)
        for (i, r) in requests.enumerated() {
            var answer: [Int32] = []
            Autograd.withNoGrad {
                for _ in 0..<5 {
                    let batch = Batch(prompts: [r.tokens + answer], answers: [[]], images: [r.image])
                    let logits = m.forward(batch).logits
                    let v = m.vocabularySize
                    let t = logits.shape[1]
                    let next = Int32(argmax(UnsafeBufferPointer(start: logits.data + (t - 1) * v, count: v)))
                    answer.append(next)
                    if m.tokenizer.endOfSequenceIDs.contains(next) { break }
                }
            }
            XCTAssertEqual(cached[i], answer, "request \(i)")
        }
    }

    func testTokenizerRoundTripAndUnknownWords() throws {
        let m = try model()
        XCTAssertEqual(m.words.decode(m.words.encode("How many circles are there?")), "how many circles are there?")
        XCTAssertEqual(m.words.unknownWords(in: "how many squares"), ["squares"])
        XCTAssertEqual(m.encodeAnswer("2 .").last, m.words.endOfAnswerID)
        XCTAssertEqual(m.encodePrompt("red", hasImage: true).first, m.words.imageID)
    }

    func testLoadingReportsBadFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tl-bad-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertThrowsError(try TinyLLaVA.load(from: dir)) {
            XCTAssertTrue("\($0)".contains("config.json: missing"), "\($0)")
        }
        try model().save(to: dir)
        let cfg = dir.appendingPathComponent("config.json")
        var text = try String(contentsOf: cfg, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"hidden_size\" : 32", with: "\"hidden_size\" : \"32\"")
        try text.write(to: cfg, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TinyLLaVA.load(from: dir)) {
            XCTAssertTrue("\($0)".contains("key 'text_config.hidden_size': expected Int"), "\($0)")
        }
    }
}
