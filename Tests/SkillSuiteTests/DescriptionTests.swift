import Kernel
import SkillSuite
import XCTest

/// Dense descriptions ("describe the image in detail"): every held-out ability and every target but pathology
/// offers them for pretraining, captions do not, and each description names what its picture shows.
final class DescriptionTests: XCTestCase {
    func testEveryHeldOutAbilityDescribesItsPicturesDeterministicallyAndWithinItsVocabulary() throws {
        let vocabulary = Set(SkillSuite.vocabulary)
        for benchmark in SkillSuite.heldOut() + SkillSuite.targets() where benchmark.name != "pathology" {
            let a = try benchmark.descriptionExamples(.train, count: 40, seed: 3)
            XCTAssertEqual(a.count, 40, benchmark.name)
            XCTAssertEqual(
                a, try benchmark.descriptionExamples(.train, count: 40, seed: 3),
                "\(benchmark.name): same seed, same bits")
            XCTAssertEqual(Set(a.map(\.id)).count, 40, "\(benchmark.name): ids are unique")
            XCTAssertGreaterThan(
                Set(a.map(\.answer)).count, 10, "\(benchmark.name): descriptions vary with the picture")
            for e in a {
                XCTAssertTrue(e.prompt.hasPrefix("<image>\n"), e.prompt)
                XCTAssertEqual(
                    SplitAssignment.split(of: e.image!), .train, "\(benchmark.name): \(e.id) is a train picture")
                for word in SkillSuite.words(in: e.prompt) + SkillSuite.words(in: e.answer)
                where !vocabulary.contains(word) {
                    XCTFail("\(benchmark.name): '\(word)' of the description '\(e.answer)' is not in the vocabulary")
                }
                XCTAssertTrue(
                    benchmark.vocabulary.isSuperset(of: SkillSuite.words(in: e.answer)),
                    "\(benchmark.name) declares the words of '\(e.answer)'")
            }
            let eval = try benchmark.descriptionExamples(.eval, count: 10, seed: 3)
            XCTAssertTrue(eval.allSatisfy { SplitAssignment.split(of: $0.image!) == .eval }, benchmark.name)
        }
    }

    func testPathologyAndCaptionsHaveNoDescriptions() throws {
        for name in ["pathology", "caption"] {
            let benchmark = try XCTUnwrap(SkillSuite.benchmark(named: name))
            XCTAssertEqual(try benchmark.descriptionExamples(.train, count: 5, seed: 1), [], name)
        }
    }

    /// A target's description says what its picture shows and determines the answer, but only through the skill:
    /// the bird's looks name one species (and each species has one look), the listed objects counted give the
    /// count, the spelled letters joined give the word, the hands' numbers turned into a time give HH:MM. The
    /// answer itself is never in the description.
    func testTargetDescriptionsDetermineTheAnswerOnlyThroughTheSkill() throws {
        for name in ["species", "count", "scene-text", "clock"] {
            let task = try XCTUnwrap(SkillSuite.benchmark(named: name) as? any ProceduralBenchmark)
            var rng = RandomGenerator(seed: 7)
            var speciesByLooks: [String: String] = [:]
            var looksBySpecies: [String: String] = [:]
            for _ in 0..<300 {
                let draft = task.draft(&rng)
                let description = try XCTUnwrap(draft.description, name)
                XCTAssertTrue(
                    task.vocabulary.isSuperset(of: SkillSuite.words(in: description)),
                    "\(name) declares the words of '\(description)'")
                let words = SkillSuite.words(in: description)
                switch name {
                case "species":
                    XCTAssertEqual(
                        speciesByLooks.updateValue(draft.answer, forKey: description) ?? draft.answer, draft.answer)
                    XCTAssertEqual(
                        looksBySpecies.updateValue(description, forKey: draft.answer) ?? description, description)
                case "count":
                    let shape = try XCTUnwrap(ShapeKind.allCases.first { draft.prompt.contains(" \($0.plural) ") })
                    let listed = words.filter { $0 == shape.rawValue }.count
                    XCTAssertEqual(AnswerMatching.integer(in: draft.answer), listed, "\(draft.prompt) / \(description)")
                    XCTAssertFalse(words.contains { Int($0) != nil }, "no number in '\(description)'")
                case "scene-text":
                    let letters = words.dropFirst(3).dropLast().joined()  // "a sign : s t o p ."
                    XCTAssertEqual(letters, draft.answer.lowercased(), description)
                    XCTAssertFalse(words.contains(draft.answer.lowercased()), description)
                default:  // clock: "a clock: the short hand points to 7, the long hand points to 9."
                    let numbers = words.enumerated().filter { $0.element == "to" }.map { i, _ -> Int in
                        let digits = words[(i + 1)...].prefix { Int($0) != nil }
                        return Int(digits.joined())!
                    }
                    XCTAssertEqual(numbers.count, 2, description)
                    let minute = numbers[1] == 12 ? 0 : numbers[1] * 5
                    XCTAssertEqual(
                        String(format: "%02d:%02d", numbers[0], minute), draft.answer, description)
                    XCTAssertFalse(description.contains(draft.answer), description)
                }
            }
            if name == "species" {
                XCTAssertEqual(speciesByLooks.count, 26, "every species was drawn and looks unique")
            }
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
                let keys = description.indices.dropLast().filter {
                    Int(description[$0 + 1]) != nil && Int(description[$0]) == nil
                }
                let asked = keys.filter { question.contains(" \(description[$0]) ") }
                XCTAssertEqual(
                    asked.count, 1,
                    "\(name): one key of '\(description.joined(separator: " "))' is asked in '\(draft.prompt)'")
                if let key = asked.first {
                    XCTAssertEqual(description[key + 1], draft.answer, "\(name): '\(draft.prompt)'")
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 200, "enough number questions were cross-checked")
    }

    /// Focused descriptions ("Describe the square.") answer the task's questions: for every question whose subject
    /// has a focused description, the answer follows from that description alone, checked per task against the
    /// draft's own answer.
    func testFocusedDescriptionsAnswerTheQuestionsAboutTheirSubject() throws {
        var checked: [String: Int] = [:]
        for name in ["seed", "real-world", "infographic", "document", "chart"] {
            let task = try XCTUnwrap(SkillSuite.benchmark(named: name) as? any ProceduralBenchmark)
            var rng = RandomGenerator(seed: 5)
            for _ in 0..<300 {
                let draft = task.draft(&rng)
                XCTAssertFalse(draft.details.isEmpty, name)
                let question = draft.prompt.components(separatedBy: "\n")[1]
                func detail(_ subject: String) -> String? { draft.details.first { $0.subject == subject }?.text }
                func between(_ text: String, _ before: String, _ after: String) -> String? {
                    guard let a = text.range(of: before),
                        let b = text.range(of: after, range: a.upperBound..<text.endIndex)
                    else { return nil }
                    return String(text[a.upperBound..<b.lowerBound])
                }
                var expected: String?
                switch name {
                case "seed":
                    // "What color is the square?" -> the square's detail names its colour; the answer is its letter.
                    let options = draft.prompt.components(separatedBy: "\n").filter {
                        $0.count > 3 && $0.dropFirst().hasPrefix(". ")
                    }
                    let letter = { (word: String) in
                        options.first { $0.hasSuffix(". \(word)") }.map { String($0.prefix(1)) }
                    }
                    if let shape = between(question, "color is the ", "?")
                        ?? between(question, "color does the ", " have"),
                        let text = detail(shape)
                    {
                        expected = letter(text.split(separator: " ")[1].description)
                    } else if let colour = between(question, "shape is the ", " object?")
                        ?? between(question, "Which shape is ", "?"),
                        let text = detail("\(colour) object")
                    {
                        expected = letter(text.split(separator: " ")[2].description)
                    }
                case "real-world":
                    if let icon = between(question, "Is there a ", " in") ?? between(question, "Can you see a ", "?") {
                        expected = detail(icon).map { $0.hasPrefix("there is no") ? "no" : "yes" } ?? "no"
                    } else if let a = between(question, "Is the ", " "), let text = detail(a),
                        let place = between(text, " is at the ", ",") ?? between(text, " is at the ", ".")
                    {
                        // A side of the picture: the detail's "at the {row} {column}" says which (never middle when asked).
                        let side =
                            question.contains("on the left")
                            ? "left"
                            : question.contains("on the right")
                                ? "right"
                                : question.contains("top") ? "top" : question.contains("bottom") ? "bottom" : nil
                        if let side {
                            expected = place.split(separator: " ").contains(Substring(side)) ? "yes" : "no"
                            break
                        }
                        let words = question.dropLast().split(separator: " ")
                        let b = String(words.last!)
                        let relation =
                            question.contains("left")
                            ? "left of the \(b)"
                            : question.contains("right")
                                ? "right of the \(b)"
                                : question.contains("above") || question.contains("higher")
                                    ? "above the \(b)" : "below the \(b)"
                        expected = text.contains(relation) ? "yes" : "no"
                    }
                case "infographic":
                    if let icon = between(question, "next to the ", "?") ?? between(question, "number for the ", "?")
                        ?? between(question, "number does the ", " have"), let text = detail(icon)
                    {
                        expected = between(text, " has ", ",") ?? between(text, " has ", ".")
                    } else if question.contains("largest") || question.contains("highest") {
                        expected = draft.details.first { $0.text.contains("highest") }.map(\.subject)
                    }
                case "document":
                    if let key = between(question, "field ", "?") ?? between(question, "next to ", "?")
                        ?? between(question, "Read field ", " of"),
                        let text = detail("field \(key)")
                    {
                        expected = between(text, "shows ", ".")
                    } else if let value = between(question, "the value ", "?") ?? between(question, "form shows ", "?"),
                        let text = detail("value \(value)")
                    {
                        expected = between(text, "field ", " shows")
                    }
                default:  // chart
                    if let colour = between(question, "of the ", " bar?")
                        ?? between(question, "How high is the ", " bar?"),
                        let text = detail("\(colour) bar")
                    {
                        expected = between(text, "bar is ", " high")
                    } else if question.contains("tallest") || question.contains("highest") {
                        expected = draft.details.first { $0.text.contains("tallest") }.map {
                            String($0.subject.dropLast(4))
                        }
                    } else {
                        expected = draft.details.first { $0.text.contains("shortest") }.map {
                            String($0.subject.dropLast(4))
                        }
                    }
                }
                guard let expected else { continue }
                XCTAssertEqual(expected, draft.answer, "\(name): '\(question)' from \(draft.details.map(\.text))")
                checked[name, default: 0] += 1
            }
        }
        for name in ["seed", "real-world", "infographic", "document", "chart"] {
            XCTAssertGreaterThan(
                checked[name] ?? 0, 150, "\(name): enough questions were checked against the focused descriptions")
        }
    }
}
