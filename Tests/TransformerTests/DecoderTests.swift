import Kernel
import Transformer
import XCTest

final class DecoderTests: XCTestCase {
    static let config = DecoderConfig(
        vocabularySize: 23, hiddenSize: 16, intermediateSize: 24, layers: 2, heads: 4,
        kvHeads: 2, ropeTheta: 10_000, attentionBias: true)

    func makeModel(tied: Bool = false, seed: UInt64 = 3) -> CausalLanguageModel {
        var c = DecoderTests.config
        c.tieWordEmbeddings = tied
        var g = RandomGenerator(seed: seed)
        let m = CausalLanguageModel(c, generator: &g)
        // Larger weights than HF's 0.02 so that the finite-difference check sees real curvature.
        for (_, t) in m.namedParameters() where t.rank == 2 { for i in 0..<t.count { t.data[i] *= 10 } }
        return m
    }

    func testHuggingFaceParameterNames() {
        let names = Set(makeModel().namedParameters().map(\.name))
        for n in [
            "model.embed_tokens.weight", "model.layers.1.self_attn.q_proj.weight",
            "model.layers.1.self_attn.q_proj.bias",
            "model.layers.0.self_attn.o_proj.weight", "model.layers.0.mlp.gate_proj.weight",
            "model.layers.0.mlp.down_proj.weight", "model.layers.0.input_layernorm.weight",
            "model.layers.0.post_attention_layernorm.weight", "model.norm.weight", "lm_head.weight",
        ] {
            XCTAssertTrue(names.contains(n), n)
        }
        XCTAssertFalse(names.contains("model.layers.0.self_attn.o_proj.bias"))
        XCTAssertFalse(Set(makeModel(tied: true).namedParameters().map(\.name)).contains("lm_head.weight"))
    }

    func testWholeModelGradientMatchesFiniteDifferences() {
        let m = makeModel()
        let tokens: [Int32] = [1, 5, 7, 2, 9, 3, 4, 11]
        let targets: [Int32] = [5, 7, Batch.ignoreIndex, 9, 3, 4, 11, Batch.ignoreIndex]
        let params = m.namedParameters().filter {
            [
                "model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.down_proj.weight",
                "model.layers.0.input_layernorm.weight",
                "model.embed_tokens.weight", "lm_head.weight", "model.layers.1.self_attn.k_proj.bias",
            ].contains($0.name)
        }.map(\.tensor)
        let r = GradientCheck.check(
            params, step: 1e-2, absoluteTolerance: 2e-3, relativeTolerance: 3e-2, maxElementsPerInput: 24
        ) { _ in
            crossEntropy(m.logits(tokens, batchSize: 2).reshaped([8, 23]), targets: targets)
        }
        XCTAssertTrue(r.passed, "\(r)")
    }

    /// The independent reference: re-run the whole sequence for every new token and take the argmax.
    func naiveGreedy(_ m: CausalLanguageModel, _ prompt: [Int32], steps: Int, eos: Set<Int32>) -> [Int32] {
        var seq = prompt
        var out: [Int32] = []
        Autograd.withNoGrad {
            for _ in 0..<steps {
                let logits = m.logits(seq, batchSize: 1)
                let v = m.config.vocabularySize
                let row = UnsafeBufferPointer(start: logits.data + (seq.count - 1) * v, count: v)
                let t = Int32(argmax(row))
                out.append(t)
                seq.append(t)
                if eos.contains(t) { break }
            }
        }
        return out
    }

    func testBatchedCachedGenerationMatchesNaiveLoop() {
        let m = makeModel()
        let prompts: [[Int32]] = [[1, 2, 3], [4, 5, 6, 7, 8, 9, 10], [11], [12, 13, 14, 15]]
        let eos: Set<Int32> = [22]
        let embedded = Autograd.withNoGrad { prompts.map { m.embed($0, batchSize: 1).reshaped([$0.count, 16]) } }
        var stepCount = [Int](repeating: 0, count: prompts.count)
        let got = m.generateGreedy(embedded, maxNewTokens: 6, endOfSequence: eos, batchSize: 3) { i, logits in
            XCTAssertEqual(logits.count, 23)
            stepCount[i] += 1
        }
        for (i, p) in prompts.enumerated() {
            XCTAssertEqual(got[i], naiveGreedy(m, p, steps: 6, eos: eos), "prompt \(i)")
            XCTAssertEqual(stepCount[i], got[i].count)
        }
    }

    func testFrozenLayersGetNoGradient() {
        let m = makeModel()
        m.setTrainable { $0.contains("self_attn") }
        crossEntropy(m.logits([1, 2, 3, 4], batchSize: 1).reshaped([4, 23]), targets: [2, 3, 4, 5]).backward()
        for (name, t) in m.namedParameters() {
            if name.contains("self_attn") { XCTAssertNotNil(t.grad, name) } else { XCTAssertNil(t.grad, name) }
        }
    }
}
