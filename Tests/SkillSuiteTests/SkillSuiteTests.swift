import Kernel
import SkillSuite
import XCTest

final class SkillSuiteTests: XCTestCase {
    func testRegistryNamesRolesAndOrder() {
        XCTAssertEqual(SkillSuite.targets().map(\.name), SkillSuite.targetNames)
        XCTAssertEqual(SkillSuite.targetNames, ["species", "count", "pathology", "scene-text", "clock"])
        XCTAssertEqual(SkillSuite.heldOut().map(\.name), SkillSuite.heldOutNames)
        XCTAssertEqual(
            SkillSuite.heldOutNames,
            ["diagram", "chart", "document", "infographic", "real-world", "seed", "science", "mmstar"])
        XCTAssertEqual(SkillSuite.all().count, 14)
        XCTAssertTrue(SkillSuite.targets().allSatisfy { $0.role == .target })
        XCTAssertTrue(SkillSuite.heldOut().allSatisfy { $0.role == .heldOut })
        XCTAssertEqual(SkillSuite.benchmark(named: "caption")?.role, .auxiliary)
        XCTAssertNil(SkillSuite.benchmark(named: "nope"))
    }

    func testSameSeedGivesBitwiseSameExamplesAndShorterRequestsArePrefixes() throws {
        for benchmark in SkillSuite.all() {
            let a = try benchmark.examples(.eval, count: 12, seed: 99)
            let b = try benchmark.examples(.eval, count: 12, seed: 99)
            XCTAssertEqual(a, b, benchmark.name)
            XCTAssertEqual(Array(a.prefix(5)), try benchmark.examples(.eval, count: 5, seed: 99), benchmark.name)
            let c = try benchmark.examples(.eval, count: 12, seed: 100)
            XCTAssertNotEqual(a.map(\.image), c.map(\.image), "\(benchmark.name): another seed gives other images")
            XCTAssertEqual(Set(a.map(\.id)).count, 12, "\(benchmark.name): ids are unique")
        }
    }

    func testTrainAndEvalNeverShareAnImageEvenAcrossSeeds() throws {
        for benchmark in SkillSuite.all() {
            let (train, eval) = SuiteFixtures.examples(benchmark)
            let otherSeedEval = try benchmark.examples(.eval, count: 100, seed: 8)
            let trainPrints = Set(train.map { SuiteFixtures.fingerprint($0.image) })
            for e in eval + otherSeedEval {
                XCTAssertFalse(
                    trainPrints.contains(SuiteFixtures.fingerprint(e.image)),
                    "\(benchmark.name): \(e.id) is also in train")
            }
        }
    }

    func testPromptsStartWithOneImagePlaceholderAndImagesHaveTheRequestedSize() throws {
        for benchmark in SkillSuite.all() {
            for e in SuiteFixtures.examples(benchmark).eval.prefix(50) {
                XCTAssertTrue(e.prompt.hasPrefix("<image>\n"), "\(benchmark.name): \(e.prompt)")
                XCTAssertEqual(e.prompt.components(separatedBy: "<image>").count, 2, e.prompt)
                XCTAssertEqual(e.image?.width, 32)
                XCTAssertEqual(e.image?.height, 32)
                XCTAssertFalse(e.answer.isEmpty)
                XCTAssertEqual(
                    benchmark.score(prediction: e.answer, example: e), 1,
                    "\(benchmark.name): its own answer scores 1: \(e.answer)")
            }
        }
        for benchmark in SkillSuite.all(SkillSuite.Options(imageSize: 64)) {
            let e = try benchmark.examples(.train, count: 1, seed: 1)[0]
            XCTAssertEqual(e.image?.width, 64, benchmark.name)
        }
    }

    func testVocabularyCoversEveryPromptAndAnswerWord() {
        let vocabulary = Set(SkillSuite.vocabulary)
        XCTAssertEqual(SkillSuite.vocabulary, vocabulary.sorted(), "sorted and unique")
        for word in SkillSuite.numberWords + ["a", "z", "0", "9", ":", "<image>", "red", "circles", "crosses"] {
            XCTAssertTrue(vocabulary.contains(word), word)
        }
        for benchmark in SkillSuite.all() {
            let (train, eval) = SuiteFixtures.examples(benchmark)
            for e in train + eval {
                for word in SkillSuite.words(in: e.prompt) + SkillSuite.words(in: e.answer)
                where !vocabulary.contains(word) {
                    XCTFail("\(benchmark.name): '\(word)' of \(e.prompt) => \(e.answer) is not in the vocabulary")
                }
            }
        }
        XCTAssertLessThan(vocabulary.count, 400, "a closed vocabulary stays small")
    }

    /// No answer dominates: the largest share of any one answer stays under a per-task bound.
    func testAnswersAreBalanced() {
        let bounds: [String: Double] = [
            "species": 0.08, "count": 0.2, "pathology": 0.40, "scene-text": 0.06, "clock": 0.03, "diagram": 0.2,
            "chart": 0.2, "document": 0.15, "infographic": 0.2, "real-world": 0.58, "seed": 0.32, "science": 0.45,
            "mmstar": 0.32, "caption": 0.05,
        ]
        for benchmark in SkillSuite.all() {
            let answers = SuiteFixtures.examples(benchmark).train.map { e -> String in
                benchmark.name == "count" ? String(AnswerMatching.integer(in: e.answer)!) : e.answer.lowercased()
            }
            let counts = Dictionary(answers.map { ($0, 1) }, uniquingKeysWith: +)
            let top = counts.max { $0.value < $1.value }!
            print(
                "balance \(benchmark.name): top answer '\(top.key)' \(top.value)/\(answers.count), \(counts.count) distinct"
            )
            XCTAssertLessThanOrEqual(
                Double(top.value) / Double(answers.count), bounds[benchmark.name]!,
                "\(benchmark.name): '\(top.key)' is \(top.value) of \(answers.count) answers")
        }
    }

    /// The text alone does not give the answer away: predicting, for each eval prompt, the answer most often seen
    /// with that exact prompt in train (or the most common answer overall) stays near chance.
    func testTextOnlyBaselineStaysNearChance() {
        let bounds: [String: Double] = [
            "species": 0.08, "count": 0.2, "pathology": 0.45, "scene-text": 0.08, "clock": 0.03, "diagram": 0.3,
            "chart": 0.3, "document": 0.2, "infographic": 0.25, "real-world": 0.6, "seed": 0.35, "science": 0.6,
            "mmstar": 0.35, "caption": 0.45,
        ]
        for benchmark in SkillSuite.all() {
            let (train, eval) = SuiteFixtures.examples(benchmark)
            var byPrompt: [String: [String: Int]] = [:]
            var overall: [String: Int] = [:]
            for e in train {
                byPrompt[e.prompt, default: [:]][e.answer, default: 0] += 1
                overall[e.answer, default: 0] += 1
            }
            func majority(_ d: [String: Int]) -> String { d.max { ($0.value, $1.key) < ($1.value, $0.key) }!.key }
            let fallback = majority(overall)
            let accuracy =
                eval.map { e in
                    benchmark.score(prediction: byPrompt[e.prompt].map(majority) ?? fallback, example: e)
                }.reduce(0, +) / Double(eval.count)
            print("text-only \(benchmark.name): \(accuracy)")
            XCTAssertLessThanOrEqual(
                accuracy, bounds[benchmark.name]!, "\(benchmark.name): text-only accuracy \(accuracy)")
        }
    }
}
