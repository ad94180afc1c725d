import Kernel
import SkillSuite
import XCTest

/// Dense descriptions ("describe the image in detail"): every held-out ability offers them for pretraining,
/// targets and captions do not, and each description names what its picture shows.
final class DescriptionTests: XCTestCase {
    func testEveryHeldOutAbilityDescribesItsPicturesDeterministicallyAndWithinItsVocabulary() throws {
        let vocabulary = Set(SkillSuite.vocabulary)
        for benchmark in SkillSuite.heldOut() {
            let a = try benchmark.descriptionExamples(.train, count: 40, seed: 3)
            XCTAssertEqual(a.count, 40, benchmark.name)
            XCTAssertEqual(a, try benchmark.descriptionExamples(.train, count: 40, seed: 3), "\(benchmark.name): same seed, same bits")
            XCTAssertEqual(Set(a.map(\.id)).count, 40, "\(benchmark.name): ids are unique")
            XCTAssertGreaterThan(Set(a.map(\.answer)).count, 10, "\(benchmark.name): descriptions vary with the picture")
            for e in a {
                XCTAssertTrue(e.prompt.hasPrefix("<image>\n"), e.prompt)
                XCTAssertEqual(SplitAssignment.split(of: e.image!), .train, "\(benchmark.name): \(e.id) is a train picture")
                for word in SkillSuite.words(in: e.prompt) + SkillSuite.words(in: e.answer) where !vocabulary.contains(word) {
                    XCTFail("\(benchmark.name): '\(word)' of the description '\(e.answer)' is not in the vocabulary")
                }
                XCTAssertTrue(benchmark.vocabulary.isSuperset(of: SkillSuite.words(in: e.answer)),
                              "\(benchmark.name) declares the words of '\(e.answer)'")
            }
            let eval = try benchmark.descriptionExamples(.eval, count: 10, seed: 3)
            XCTAssertTrue(eval.allSatisfy { SplitAssignment.split(of: $0.image!) == .eval }, benchmark.name)
        }
    }

    func testTargetsAndCaptionsHaveNoDescriptions() throws {
        for benchmark in SkillSuite.targets() + SkillSuite.auxiliary() {
            XCTAssertEqual(try benchmark.descriptionExamples(.train, count: 5, seed: 1), [], benchmark.name)
        }
    }

    /// A description and a question drawn from the same draft agree: when a question asks for the number of a
    /// bar, icon or field, the description names that bar, icon or field followed by the answer.
    func testDescriptionsNameWhatTheQuestionsAsk() throws {
        var checked = 0
        for name in ["infographic", "chart", "document"] {
            let task = try XCTUnwrap(SkillSuite.benchmark(named: name) as? any ProceduralBenchmark)
            var rng = RandomGenerator(seed: 11)
            for _ in 0..<200 {
                let draft = task.draft(&rng)
                let description = SkillSuite.words(in: try XCTUnwrap(draft.description))
                let question = " " + SkillSuite.words(in: draft.prompt).joined(separator: " ") + " "
                guard Int(draft.answer) != nil else { continue }
                // The description's keys: words followed by a number ("heart 8", "red 3", "k 7").
                let keys = description.indices.dropLast().filter { Int(description[$0 + 1]) != nil && Int(description[$0]) == nil }
                let asked = keys.filter { question.contains(" \(description[$0]) ") }
                XCTAssertEqual(asked.count, 1, "\(name): one key of '\(description.joined(separator: " "))' is asked in '\(draft.prompt)'")
                if let key = asked.first {
                    XCTAssertEqual(description[key + 1], draft.answer, "\(name): '\(draft.prompt)'")
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 200, "enough number questions were cross-checked")
    }
}
