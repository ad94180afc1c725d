import XCTest
import Kernel
import TinyLLaVA
import Host

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
        let m = try TinyLLaVA(preset: "tiny", vocabulary: ["how", "many", "are", "there", "1", "2", "twelve", "red", "?", "."], seed: 2)
        for (_, t) in m.namedParameters() where t.rank >= 2 { for i in 0..<t.count { t.data[i] *= 15 } }
        return m
    }

    func testCountingBiasInvariants() throws {
        let m = try model()
        let prompts = [GenerationRequest(tokens: m.encodePrompt("how many ?", hasImage: false)),
                       GenerationRequest(tokens: m.encodePrompt("red", hasImage: false))]
        let numbers = NumberTokens.ids(in: m.tokenizer)
        XCTAssertEqual(numbers.map { m.tokenizer.tokenText($0)! }, ["1", "2", "twelve"])
        let all = CountingBiasProbe.measure(m, prompts: prompts, numberIDs: (0..<Int32(m.vocabularySize)).map { $0 }, maxNewTokens: 3)
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
        let examples = [Example(id: "a", prompt: "how many are there ?", answer: "2 ."),
                        Example(id: "b", prompt: "red ?", answer: "twelve")]
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
}
