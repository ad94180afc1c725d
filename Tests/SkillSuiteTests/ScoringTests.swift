import Kernel
import SkillSuite
import XCTest

/// Hand-written predictions for every task: right ones score 1, wrong and malformed ones 0.
final class ScoringTests: XCTestCase {
    private func check(
        _ name: String, answer: String, right: [String], wrong: [String], malformed: [String],
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let benchmark = SkillSuite.benchmark(named: name)!
        let example = Example(id: "t", prompt: "<image>\nq", answer: answer)
        for p in right {
            XCTAssertEqual(
                benchmark.score(prediction: p, example: example), 1, "\(name): '\(p)' for '\(answer)'", file: file,
                line: line)
        }
        for p in wrong + malformed {
            XCTAssertEqual(
                benchmark.score(prediction: p, example: example), 0, "\(name): '\(p)' for '\(answer)'", file: file,
                line: line)
        }
    }

    func testTargetSkills() {
        check(
            "species", answer: "K", right: ["K", "k", "K.", " (K) ", "Answer: K", "k) the one with a long beak"],
            wrong: ["J", "A", "Z."], malformed: ["", "kk", "a red bird", "11", "K K"])
        check(
            "count", answer: "There are 7 circles.",
            right: [
                "There are 7 circles.", "7", "seven", "There are seven circles", "there are 7 circles", "7 circles.",
            ],
            wrong: ["There are 8 circles.", "eight", "0", "There are 17 circles."],
            malformed: ["", "There are many circles.", "circles"])
        check(
            "count", answer: "There are 0 squares.", right: ["There are no squares.", "zero", "0", "none"],
            wrong: ["There is 1 square."], malformed: ["squares"])
        check(
            "count", answer: "There are 12 triangles.", right: ["twelve", "1 2", "There are 12 triangles."],
            wrong: ["There are 2 triangles.", "twenty"], malformed: ["?"])
        check(
            "pathology", answer: "yes", right: ["yes", "Yes.", "YES, it is"], wrong: ["no", "No."],
            malformed: ["", "maybe", "striped"])
        check(
            "pathology", answer: "no", right: ["no", "No, it is not."], wrong: ["yes"], malformed: ["nope", "dotted"])
        check(
            "pathology", answer: "striped", right: ["striped", "Striped.", "the striped"], wrong: ["dotted", "wavy"],
            malformed: ["", "yes", "striped dotted"])
        check(
            "scene-text", answer: "STOP", right: ["STOP", "stop", "Stop.", " s t o p "],
            wrong: ["SHOP", "STOPS", "TOP"],
            malformed: ["", "?", "it says stop"])
        check(
            "scene-text", answer: "K42", right: ["K42", "k 4 2", "k42."], wrong: ["K24", "K4", "X42"], malformed: [""])
        check(
            "clock", answer: "07:45",
            right: ["07:45", "7:45", "07:44", "07:46", "0 7 : 4 5", "It is 7:45.", "19:45"],
            wrong: ["07:47", "08:45", "06:45", "07:15"], malformed: ["", "seven forty-five", "745", "07:4", "07:61"])
        check(
            "clock", answer: "12:00", right: ["12:00", "00:00", "12:59", "12:01", "00:01"],
            wrong: ["11:59", "01:00", "12:02"],
            malformed: ["noon"])
    }

    func testHeldOutAbilitiesAndCaption() {
        check(
            "diagram", answer: "triangle", right: ["triangle", "Triangle.", "the triangle", "a triangle"],
            wrong: ["circle", "square"], malformed: ["", "the arrow", "triangle triangle"])
        check("diagram", answer: "red", right: ["red", "Red."], wrong: ["blue"], malformed: ["A"])
        check(
            "chart", answer: "yellow", right: ["yellow", "the yellow", "Yellow."], wrong: ["red", "4"],
            malformed: ["", "bar"])
        check("chart", answer: "4", right: ["4", "four", "4."], wrong: ["5", "14"], malformed: ["", "yellow"])
        check("document", answer: "7", right: ["7", "seven", "7."], wrong: ["1", "17"], malformed: ["", "K"])
        check("document", answer: "K", right: ["K", "k", "k."], wrong: ["H", "7"], malformed: ["", "field"])
        check("infographic", answer: "3", right: ["3", "three"], wrong: ["8"], malformed: ["heart"])
        check(
            "infographic", answer: "heart", right: ["heart", "the heart", "Heart."], wrong: ["sun", "tree"],
            malformed: ["", "3"])
        check(
            "real-world", answer: "no", right: ["no", "No.", "no, it is not"], wrong: ["yes"],
            malformed: ["", "left", "n"])
        check(
            "seed", answer: "C", right: ["C", "c.", "(C)", "C. red", "Answer: C"], wrong: ["A", "B", "D"],
            malformed: ["", "red", "CD", "c red"])
        check(
            "science", answer: "left", right: ["left", "Left.", "the left"], wrong: ["right"],
            malformed: ["", "yes", "left right"])
        check("science", answer: "blue", right: ["blue", "the blue"], wrong: ["red"], malformed: ["left"])
        check(
            "mmstar", answer: "A", right: ["A", "a", "A.", "(a)"], wrong: ["B", "D"],
            malformed: ["", "a red circle", "red"])

        let caption = SkillSuite.benchmark(named: "caption")!
        let e = Example(
            id: "c", prompt: "<image>\nDescribe the image.",
            answer: "a red circle, an orange square and a green triangle.")
        XCTAssertEqual(caption.score(prediction: e.answer, example: e), 1)
        XCTAssertEqual(
            caption.score(prediction: "A green triangle, a red circle and an orange square", example: e), 1,
            "order-free")
        XCTAssertEqual(caption.score(prediction: "a red circle.", example: e), 0.5, accuracy: 1e-9)  // 2*1/(1+3)
        XCTAssertEqual(caption.score(prediction: "a blue star.", example: e), 0)
        XCTAssertEqual(caption.score(prediction: "", example: e), 0)
        XCTAssertEqual(caption.score(prediction: "There are 3 circles.", example: e), 0)
    }
}
