import Host
import Kernel
import SkillTuneCLI
import TinyLLaVA
import XCTest

final class ProbeTests: XCTestCase {
    func testNumberTokensAcrossTokenizerStyles() {
        for t in ["7", "12", " 12", "\u{0120}twenty", "Twenty", "3.5", "1st", "22nd", "twentieth", "hundred", "0"] {
            XCTAssertTrue(NumberTokens.isNumber(t), t)
        }
        for t in ["a", "3.", ".5", "12a", "", " ", "one-", "tw", "circles", ":"] {
            XCTAssertFalse(NumberTokens.isNumber(t), t)
        }
    }

    func model() throws -> TinyLLaVA {
        let m = try TinyLLaVA(
            preset: "tiny", vocabulary: ["how", "many", "are", "there", "1", "2", "twelve", "red", "?", "."], seed: 2)
        for (_, t) in m.namedParameters() where t.rank >= 2 { for i in 0..<t.count { t.data[i] *= 15 } }
        return m
    }

    func testCountingBiasInvariants() throws {
        let m = try model()
        let prompts = [
            GenerationRequest(tokens: m.encodePrompt("how many ?", hasImage: false)),
            GenerationRequest(tokens: m.encodePrompt("red", hasImage: false)),
        ]
        let numbers = NumberTokens.ids(in: m.tokenizer)
        XCTAssertEqual(numbers.map { m.tokenizer.tokenText($0)! }, ["1", "2", "twelve"])
        let all = CountingBiasProbe.measure(
            m, prompts: prompts, numberIDs: (0..<Int32(m.vocabularySize)).map { $0 }, maxNewTokens: 3)
        XCTAssertEqual(all.samples, 2)
        XCTAssertEqual(all.numberMassMean.mean, 1, accuracy: 1e-9)
        XCTAssertEqual(all.numberMassMean.std, 0, accuracy: 1e-9)
        let none = CountingBiasProbe.measure(m, prompts: prompts, numberIDs: [], maxNewTokens: 3)
        XCTAssertEqual(none.numberMassMax.mean, 0)
        let some = CountingBiasProbe.measure(m, prompts: prompts, numberIDs: numbers, maxNewTokens: 3)
        XCTAssertGreaterThan(some.numberMassMean.mean, 0)
        XCTAssertLessThan(some.numberMassMean.mean, 1)
        XCTAssertLessThanOrEqual(some.maxNumberProbabilityMean.mean, some.numberMassMean.mean + 1e-12)
        XCTAssertLessThanOrEqual(some.numberMassMean.mean, some.numberMassMax.mean + 1e-12)
    }

    func testLayerShiftIsZeroForTheSameModelAndLocalisesAChange() throws {
        let base = try model()
        let tuned = base.copy()
        let examples = [
            Example(id: "a", prompt: "how many are there ?", answer: "2 ."),
            Example(id: "b", prompt: "red ?", answer: "twelve"),
        ]
        let same = LayerShiftProbe.run(base: base, tuned: tuned, examples: examples, stage: "x")
        XCTAssertEqual(same.attention, [0, 0])
        XCTAssertEqual(same.mlp, [0, 0])
        let w = tuned.parameter(named: "model.layers.1.mlp.down_proj.weight")!
        for i in 0..<w.count { w.data[i] += 0.05 }
        let shifted = LayerShiftProbe.run(base: base, tuned: tuned, examples: examples, stage: "count")
        XCTAssertEqual(shifted.attention, [0, 0], "layer 1's MLP cannot change any attention output up to layer 1")
        XCTAssertEqual(shifted.mlp[0], 0)
        XCTAssertGreaterThan(shifted.mlp[1], 0)
        XCTAssertEqual(shifted.stage, "count")
    }

    func testMeanStdIsPopulationStd() {
        let r = meanStd([1, 2, 3, 4])
        XCTAssertEqual(r.mean, 2.5)
        XCTAssertEqual(r.std, (1.25).squareRoot(), accuracy: 1e-12)
    }

    /// The reference's layer shift computed directly: every layer's outputs at the answer tokens (positions
    /// prompt..<prompt+answer, counted from the token sequences), each through its own model's head read off
    /// `unembed` of the identity, norms in Double, mean per sample then over samples.
    func directLayerShift(base: any Backbone, tuned: any Backbone, examples: [Example]) -> (
        attention: [Double], mlp: [Double]
    ) {
        let layers = base.decoderLayerCount
        let h = base.hiddenSize
        let v = base.vocabularySize
        func headTranspose(_ m: any Backbone) -> [Float] {
            let eye = Tensor(zeros: [h, h])
            for i in 0..<h { eye.data[i * h + i] = 1 }
            return Autograd.withNoGrad { m.unembed(eye).array }  // [H, V]: column j is row j of W
        }
        let (wBase, wTuned) = (headTranspose(base), headTranspose(tuned))
        var attention = [Double](repeating: 0, count: layers)
        var mlp = [Double](repeating: 0, count: layers)
        for example in examples {
            let prompt = base.encodePrompt(for: example)
            let answer = base.encodeAnswer(example.answer)
            let batch = Batch(prompts: [prompt], answers: [answer])
            var outputs: [String: [Float]] = [:]
            Autograd.withNoGrad {
                _ = base.forward(batch) { outputs["b\($0.layer)\($0.component.rawValue)"] = $0.output.array }
                _ = tuned.forward(batch) { outputs["t\($0.layer)\($0.component.rawValue)"] = $0.output.array }
            }
            for layer in 0..<layers {
                for component in ["self_attn", "mlp"] {
                    let hb = outputs["b\(layer)\(component)"]!
                    let ht = outputs["t\(layer)\(component)"]!
                    var sum = 0.0
                    for p in prompt.count..<(prompt.count + answer.count) {
                        var norm = 0.0
                        for j in 0..<v {
                            var yt = 0.0
                            var yb = 0.0
                            for k in 0..<h {
                                yt += Double(ht[p * h + k]) * Double(wTuned[k * v + j])
                                yb += Double(hb[p * h + k]) * Double(wBase[k * v + j])
                            }
                            norm += (yt - yb) * (yt - yb)
                        }
                        sum += norm.squareRoot()
                    }
                    let mean = sum / Double(answer.count) / Double(examples.count)
                    if component == "mlp" { mlp[layer] += mean } else { attention[layer] += mean }
                }
            }
        }
        return (attention, mlp)
    }

    func checkLayerShiftAgainstDirectComputation(
        base: any Backbone, examples: [Example], file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let tuned = base.copy()
        for name in ["model.layers.0.mlp.up_proj.weight", "model.layers.1.self_attn.v_proj.weight"] {
            let w = try XCTUnwrap(tuned.parameter(named: name), name)
            for i in 0..<w.count { w.data[i] += 0.03 * Float(i % 7) - 0.09 }
        }
        let probed = LayerShiftProbe.run(base: base, tuned: tuned, examples: examples, stage: "s")
        let direct = directLayerShift(base: base, tuned: tuned, examples: examples)
        for (a, b) in zip(probed.attention + probed.mlp, direct.attention + direct.mlp) {
            XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b)), file: file, line: line)
        }
        XCTAssertEqual(probed.attention[0], 0, "nothing before layer 0's MLP changed", file: file, line: line)
        XCTAssertGreaterThan(probed.mlp[0], 0, file: file, line: line)
        // A tuned head alone shifts every layer's projection: each model reads its outputs with its own head.
        let headOnly = base.copy()
        let head = try XCTUnwrap(
            headOnly.parameter(named: "lm_head.weight") ?? headOnly.parameter(named: "model.embed_tokens.weight"))
        for i in 0..<head.count { head.data[i] *= 1.5 }
        let shifted = LayerShiftProbe.run(base: base, tuned: headOnly, examples: examples, stage: "s")
        let directHead = directLayerShift(base: base, tuned: headOnly, examples: examples)
        XCTAssertTrue(
            shifted.attention.allSatisfy { $0 > 0 } && shifted.mlp.allSatisfy { $0 > 0 }, file: file, line: line)
        for (a, b) in zip(shifted.attention + shifted.mlp, directHead.attention + directHead.mlp) {
            XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b)), file: file, line: line)
        }
    }

    func testLayerShiftMatchesTheReferenceFormulaOnTinyLLaVA() throws {
        let examples = [
            Example(id: "a", prompt: "how many are there ?", answer: "2 ."),
            Example(id: "b", prompt: "red ?", answer: "twelve"),
        ]
        try checkLayerShiftAgainstDirectComputation(base: try model(), examples: examples)
    }

    func testLayerShiftMatchesTheReferenceFormulaOnAnHFModel() throws {
        let base = try SkillTuneRegistries.builtIn().loadBackbone(directory: OutsideStudyFixture.qwen2)
        let examples = [
            Example(id: "a", prompt: "What is 2 plus 3?", answer: "5"),
            Example(id: "b", prompt: "The sky is", answer: "blue today"),
        ]
        try checkLayerShiftAgainstDirectComputation(base: base, examples: examples)
    }

    func testNumberTokensOfAByteLevelBPEVocabulary() throws {
        let m = try SkillTuneRegistries.builtIn().loadBackbone(directory: OutsideStudyFixture.qwen2)
        let ids = Set(NumberTokens.ids(in: m.tokenizer))
        XCTAssertFalse(ids.isEmpty)
        for id in ids {
            XCTAssertTrue(NumberTokens.isNumber(m.tokenizer.decode([id])), "\(id): \(m.tokenizer.decode([id]))")
        }
        for id in Int32(0)..<Int32(m.tokenizer.vocabularySize) where !ids.contains(id) {
            XCTAssertFalse(NumberTokens.isNumber(m.tokenizer.decode([id])), "\(id): \(m.tokenizer.decode([id]))")
        }
        for digit in "0123456789" {
            let encoded = m.tokenizer.encode(String(digit))
            XCTAssertEqual(encoded.count, 1)
            XCTAssertTrue(ids.contains(encoded[0]), "the digit \(digit) is a number token")
        }
        for t in ["\u{2581}7", "\u{2581}third", "\u{0120}1st", "ninety", "million", "0.25"] {
            XCTAssertTrue(NumberTokens.isNumber(t), t)
        }
    }
}
