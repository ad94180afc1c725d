import Kernel
import XCTest

final class AnswerMatchingTests: XCTestCase {
    func testWordSplitRule() {
        XCTAssertEqual(
            WordText.words(in: "<image>\nHow many Circles are there?"),
            ["<image>", "how", "many", "circles", "are", "there", "?"])
        XCTAssertEqual(WordText.words(in: "07:45"), ["0", "7", ":", "4", "5"])
        XCTAssertEqual(WordText.words(in: "There are 12 squares."), ["there", "are", "1", "2", "squares", "."])
        XCTAssertEqual(WordText.words(in: "(A-Z) K7"), ["(", "a", "-", "z", ")", "k", "7"])
        XCTAssertEqual(WordText.words(in: "a <b c"), ["a", "<", "b", "c"])  // not a tag
        XCTAssertEqual(WordText.words(in: "  "), [])
    }

    func testJoinUndoesSplitUpToCaseAndSpacing() {
        for (text, canonical) in [
            ("There are 12 squares.", "there are 12 squares."), ("07:45", "07:45"),
            ("What is it? A. red B. blue", "what is it? a. red b. blue"),
            ("Which species (A-Z) is this?", "which species (a-z) is this?"),
            ("3.5 kg", "3.5 kg"),
            ("a red circle, a blue square and a star.", "a red circle, a blue square and a star."),
        ] {
            XCTAssertEqual(WordText.canonical(text), canonical)
            XCTAssertEqual(WordText.words(in: WordText.canonical(text)), WordText.words(in: text))
        }
    }

    func testChoiceLetter() {
        for (p, e) in [
            ("B", "B"), ("b.", "B"), ("(c)", "C"), ("D) blue", "D"), ("A. red", "A"), ("Answer: C", "C"),
            ("answer is d", "D"), ("option b", "B"), ("  a  ", "A"),
        ] {
            XCTAssertEqual(AnswerMatching.choiceLetter(in: p), Character(e), p)
        }
        for p in ["", "a red circle", "b blue", "AB", "(c", "7", "?", "the answer"] {
            XCTAssertNil(AnswerMatching.choiceLetter(in: p), p)
        }
    }

    func testIntegerReadsDigitsAndNumberWords() {
        for (p, e) in [
            ("There are 12 circles.", 12), ("1 2", 12), ("twelve", 12), ("There are twenty-one.", 21),
            ("one hundred and five", 105), ("There are no circles.", 0), ("zero", 0), ("7", 7),
            ("two thousand three hundred", 2300), ("none", 0),
        ] {
            XCTAssertEqual(AnswerMatching.integer(in: p), e, p)
        }
        for p in ["", "many", "There are circles.", "1234567890123456789"] {
            XCTAssertNil(AnswerMatching.integer(in: p), p)
        }
    }

    func testNumberYesNoAndClock() {
        XCTAssertEqual(AnswerMatching.number(in: "about 3.25 kg"), 3.25)
        XCTAssertEqual(AnswerMatching.number(in: "-4"), -4)
        XCTAssertEqual(AnswerMatching.number(in: "seven"), 7)
        XCTAssertEqual(AnswerMatching.yesNo(in: "Yes, it is."), true)
        XCTAssertEqual(AnswerMatching.yesNo(in: "no"), false)
        XCTAssertNil(AnswerMatching.yesNo(in: "maybe"))
        XCTAssertTrue(AnswerMatching.clockTime(in: "07:45")! == (7, 45))
        XCTAssertTrue(AnswerMatching.clockTime(in: "0 7 : 4 5")! == (7, 45))
        XCTAssertTrue(AnswerMatching.clockTime(in: "It is 7:05.")! == (7, 5))
        for p in ["7:5", "745", "107:45", "07:456", "25:00", "07:60", ":45", ""] {
            XCTAssertNil(AnswerMatching.clockTime(in: p), p)
        }
        XCTAssertEqual(AnswerMatching.normalized("  The Red  one. "), "the red one")
        XCTAssertEqual(AnswerMatching.normalizedWithoutArticle("The Red."), "red")
    }
}
