import Kernel
import XCTest

/// ANLS and relaxed accuracy against hand-computed values; each case was also checked against lmms-eval's
/// definitions (`anls` in lmms_eval/api/metrics.py, `relaxed_correctness` in lmms_eval/tasks/chartqa/utils.py).
final class AnswerSimilarityTests: XCTestCase {
    func testLevenshteinCountsUnicodeScalars() {
        XCTAssertEqual(AnswerSimilarity.levenshtein("kitten", "sitting"), 3)
        XCTAssertEqual(AnswerSimilarity.levenshtein("flaw", "lawn"), 2)
        XCTAssertEqual(AnswerSimilarity.levenshtein("", "abc"), 3)
        XCTAssertEqual(AnswerSimilarity.levenshtein("abc", ""), 3)
        XCTAssertEqual(AnswerSimilarity.levenshtein("same", "same"), 0)
        // Precomposed é against e + combining acute: equal to Swift, two scalar edits to Python.
        XCTAssertEqual(AnswerSimilarity.levenshtein("\u{E9}", "e\u{301}"), 2)
    }

    func testLevenshteinTrimmingMatchesTheFullTable() {
        // The full dynamic-programming table, without the common prefix and suffix shortcut.
        func full(_ a: [Character], _ b: [Character]) -> Int {
            var d = (0...b.count).map { [$0] + [Int](repeating: 0, count: a.count) }
            for i in 0...a.count { d[0][i] = i }
            for j in 1...max(1, b.count) where j <= b.count {
                for i in 1...max(1, a.count) where i <= a.count {
                    d[j][i] = min(d[j - 1][i] + 1, d[j][i - 1] + 1, d[j - 1][i - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                }
            }
            return d[b.count][a.count]
        }
        var rng = RandomGenerator(seed: 11)
        for _ in 0..<300 {
            let a = (0..<rng.int(below: 9)).map { _ in Character(["a", "b", "c"][rng.int(below: 3)]) }
            let b = (0..<rng.int(below: 9)).map { _ in Character(["a", "b", "c"][rng.int(below: 3)]) }
            XCTAssertEqual(AnswerSimilarity.levenshtein(String(a), String(b)), full(a, b), "\(String(a)) \(String(b))")
        }
        // Long, nearly equal texts are cheap.
        let long = String(repeating: "abcdefghij", count: 20_000)
        XCTAssertEqual(AnswerSimilarity.levenshtein(long, "x" + long.dropFirst() + "y"), 2)
        XCTAssertEqual(AnswerSimilarity.anls(prediction: long, references: [long]), 1)
    }

    func testANLS() {
        func anls(_ prediction: String, _ references: [String]) -> Double {
            AnswerSimilarity.anls(prediction: prediction, references: references)
        }
        XCTAssertEqual(anls("Paris", ["paris"]), 1)
        XCTAssertEqual(anls("  The   Cat ", ["the cat"]), 1, "stripped, lowercased, whitespace collapsed")
        XCTAssertEqual(anls("helo", ["hello"]), 0.8, accuracy: 1e-12)  // 1 - 1/5
        XCTAssertEqual(anls("abc", ["abd"]), 2.0 / 3, accuracy: 1e-12)  // 1 - 1/3
        XCTAssertEqual(anls("ab", ["cd"]), 0)  // NL = 1
        XCTAssertEqual(anls("abc", ["xyc"]), 0, "NL = 2/3 is above the threshold")
        XCTAssertEqual(anls("ab", ["ac"]), 0.5, "NL = 0.5 exactly still scores, as in lmms-eval")
        XCTAssertEqual(anls("1996", ["1995", "1996 AD"]), 0.75, "best reference: 1 - 1/4")
        // lmms-eval divides by the raw lengths: "  ab  " is 6 long, so NL = 1/6.
        XCTAssertEqual(anls("  ab  ", ["ac"]), 5.0 / 6, accuracy: 1e-12)
        // Uppercasing "ß" gives "SS": the length is 7, the distance 2.
        XCTAssertEqual(anls("straße", ["strasse"]), 5.0 / 7, accuracy: 1e-12)
        XCTAssertEqual(anls("", [""]), 1)
        XCTAssertEqual(anls("", ["abc"]), 0)
        XCTAssertEqual(anls("anything", []), 0)
        XCTAssertEqual(
            AnswerSimilarity.anls(prediction: "abc", references: ["xyc"], threshold: 0.3), 1.0 / 3,
            accuracy: 1e-12)
    }

    func testRelaxedCorrectness() {
        let cases: [(String, String, Bool)] = [
            ("12", "12", true), ("12.5", "12", true), ("12.7", "12", false),  // 4.2% and 5.8%
            ("35.0", "35.7", true),  // the ChartQA paper's tolerance: 2%
            ("5%", "0.05", true), ("5", "5%", false), ("5 %", "0.05", true), ("5%%", "0.05", true),
            ("5% ", "0.05", false),  // no trailing % and not a number: text compared
            ("Yes", "yes", true), ("yes ", "yes", false), (" 12 ", "12", true),
            ("0", "0", true), ("0.0", "0", false),  // a zero target is compared as text
            ("1_000", "1000", true), ("1e3", "1000", true), ("1,000", "1000", false),
            ("inf", "inf", false), ("nan", "nan", false), ("-5", "5", false), ("abc%", "abc%", true),
        ]
        for (prediction, target, expected) in cases {
            XCTAssertEqual(
                AnswerSimilarity.relaxedCorrectness(prediction: prediction, target: target), expected,
                "\(prediction) vs \(target)")
        }
    }

    func testPythonNumberReadsWhatFloatReads() {
        let read: [(String, Double)] = [
            ("  -1.5e2 ", -150), ("+.5", 0.5), ("5.", 5), ("1_000.5_0", 1000.5), ("7", 7), ("1E+2", 100),
            ("\u{A0}3\u{2003}", 3),
        ]
        for (text, value) in read { XCTAssertEqual(AnswerSimilarity.pythonNumber(text), value, text) }
        XCTAssertEqual(AnswerSimilarity.pythonNumber("Infinity"), .infinity)
        XCTAssertEqual(AnswerSimilarity.pythonNumber("-iNF"), -.infinity)
        XCTAssertTrue(AnswerSimilarity.pythonNumber("nan")!.isNaN)
        for text in [".", "1__0", "_1", "1_", "e5", "1e", "0x10", "", "\u{1C}5\u{1F}", "1.2.3", "--1", "five"] {
            XCTAssertNil(AnswerSimilarity.pythonNumber(text), text)
        }
    }
}
