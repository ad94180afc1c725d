import Kernel
import SkillSuite
import XCTest

final class MultipleChoiceTests: XCTestCase {
    /// The option lines of a prompt ("A. red" -> "red").
    private func options(_ prompt: String) -> [String] {
        prompt.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, ["A.", "B.", "C.", "D."].contains(String(parts[0])) else { return nil }
            return String(parts[1])
        }
    }

    func testOptionsAreEveryPossibleAnswerInAFixedOrderByDefault() throws {
        let fixed: Set<[String]> = [
            ["red", "green", "blue", "yellow"], ["circle", "square", "triangle", "cross"],
            ["top left", "top right", "bottom left", "bottom right"],
        ]
        for benchmark in [SeedBenchmark(), MMStarBenchmark()] as [any Benchmark] {
            let examples = try benchmark.examples(.train, count: 300, seed: 3)
            var letters: [String: Int] = [:]
            for e in examples {
                XCTAssertTrue(fixed.contains(options(e.prompt)), "\(benchmark.name): \(e.prompt)")
                letters[e.answer, default: 0] += 1
            }
            XCTAssertEqual(Set(letters.keys), ["A", "B", "C", "D"], benchmark.name)
            XCTAssertTrue(letters.values.allSatisfy { $0 >= 50 }, "\(benchmark.name): letters \(letters)")
        }
    }

    func testShuffledOptionsVaryInOrderAndStillScore() throws {
        var seedOptions = SeedBenchmark.Options()
        seedOptions.shuffleOptions = true
        var mmstarOptions = MMStarBenchmark.Options()
        mmstarOptions.shuffleOptions = true
        for benchmark in [SeedBenchmark(options: seedOptions), MMStarBenchmark(options: mmstarOptions)]
            as [any Benchmark]
        {
            let examples = try benchmark.examples(.eval, count: 100, seed: 3)
            XCTAssertGreaterThan(Set(examples.map { options($0.prompt) }).count, 10, "\(benchmark.name): orders vary")
            for e in examples.prefix(20) { XCTAssertEqual(benchmark.score(prediction: e.answer, example: e), 1) }
        }
    }
}
