import Foundation
import JSONLBenchmark
import Kernel
import XCTest

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
private let red = Image(width: 2, height: 2, fill: (230, 20, 20))
private let blue = Image(width: 3, height: 2, fill: (20, 40, 230))

/// The conversation formats (LLaVA JSON, chat messages, ShareGPT), the multi-turn rule, splits, the eval file,
/// graded scorings and the errors.
final class DataFileBenchmarkTests: XCTestCase {
    private var temporary: URL!

    override func setUpWithError() throws {
        temporary = FileManager.default.temporaryDirectory.appendingPathComponent("datafile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: temporary) }

    private func write(_ text: String, _ name: String) throws -> URL {
        let url = temporary.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    private func byID(_ b: DataFileBenchmark, _ split: Split) throws -> [String: Example] {
        Dictionary(uniqueKeysWithValues: try b.examples(split, count: 1000, seed: 0).map { ($0.id, $0) })
    }

    func testLLaVAConversationJSON() throws {
        let b = try DataFileBenchmark(file: fixtures.appendingPathComponent("llava.json"))
        XCTAssertEqual(b.format, .llava)
        XCTAssertEqual(b.itemCount, 4)
        let train = try byID(b, .train)
        let eval = try byID(b, .eval)
        XCTAssertEqual(Set(train.keys), ["blue-chat#1", "blue-chat", "17"], "one training example per gpt turn")
        XCTAssertEqual(Set(eval.keys), ["red-1", "blue-chat-eval"], "eval scores the last turn only")

        let system = "You are a careful assistant."
        XCTAssertEqual(
            train["blue-chat#1"],
            Example(
                id: "blue-chat#1", prompt: "What is in the picture?\n<image>", answer: "A blue rectangle.",
                image: blue, system: system))
        XCTAssertEqual(
            train["blue-chat"],
            Example(
                id: "blue-chat", prompt: "How wide is it?", answer: "3 pixels", image: blue, system: system,
                history: [ChatTurn(user: "What is in the picture?\n<image>", assistant: "A blue rectangle.")]))
        XCTAssertEqual(train["17"], Example(id: "17", prompt: "2+2?", answer: "4"), "numeric ids, user/assistant")
        XCTAssertEqual(
            eval["red-1"],
            Example(
                id: "red-1", prompt: "<image>\nWhat color is the square?", answer: "Red",
                image: red))
        XCTAssertEqual(
            eval["blue-chat-eval"],
            Example(
                id: "blue-chat-eval", prompt: "Its height?", answer: "2", image: blue,
                history: [ChatTurn(user: "<image>\nDescribe it.", assistant: "Blue.")]),
            "a single image without a placeholder goes before the first user message")
        XCTAssertTrue(b.summary.contains("4 items") && b.summary.contains("LLaVA conversation JSON"), b.summary)
    }

    func testChatMessagesJSONLines() throws {
        let b = try DataFileBenchmark(file: fixtures.appendingPathComponent("messages.jsonl"))
        XCTAssertEqual(b.format, .messages)
        let train = try byID(b, .train)
        let eval = try byID(b, .eval)
        XCTAssertEqual(
            train["m1"],
            Example(
                id: "m1", prompt: "<image>\nColor?", answer: "red", image: red,
                system: "Answer briefly."))
        XCTAssertEqual(
            train["m3"], Example(id: "m3", prompt: "<image>\nWhich?", answer: "blue", image: blue),
            "a bare image part takes its image from \"images\"")
        XCTAssertEqual(
            eval["m2"],
            Example(
                id: "m2", prompt: "Size?", answer: "2 by 2", image: red,
                history: [ChatTurn(user: "<image>Shape?", assistant: "square")]))
        XCTAssertEqual(Set(train.keys), ["m1", "m3"], "m2 is an eval item")
    }

    func testShareGPTLines() throws {
        let b = try DataFileBenchmark(file: fixtures.appendingPathComponent("sharegpt.jsonl"))
        XCTAssertEqual(b.format, .shareGPT)
        XCTAssertEqual(
            try b.examples(.train, count: 5, seed: 0), [Example(id: "sharegpt:1", prompt: "Hi", answer: "Hello")])
        XCTAssertEqual(
            try b.examples(.eval, count: 5, seed: 0),
            [Example(id: "sharegpt:2", prompt: "<image>\nColor?", answer: "blue", image: blue)])
    }

    func testFormatIsRecognisedByContentNotExtension() throws {
        func detect(_ text: String) -> DataFileFormat { DataFileFormat.detect(Data(text.utf8)) }
        XCTAssertEqual(detect("  \n[{\"conversations\": []}]"), .llava)
        XCTAssertEqual(detect("\u{FEFF}[]"), .llava, "after a byte-order mark")
        XCTAssertEqual(detect("not json\n\n{\"messages\": []}\n"), .messages, "the first object line decides")
        XCTAssertEqual(detect("{\"conversations\": [], \"prompt\": 1}"), .shareGPT)
        XCTAssertEqual(detect("{\"prompt\": \"q\", \"answer\": \"a\"}"), .skillTune)
        XCTAssertEqual(detect(""), .skillTune)
        // A LLaVA file named .jsonl and a messages file named .json load by what they hold.
        let llava = try write(
            String(contentsOf: fixtures.appendingPathComponent("llava.json"), encoding: .utf8)
                .replacingOccurrences(of: "images/", with: fixtures.path + "/images/"), "llava.jsonl")
        XCTAssertEqual(try DataFileBenchmark(file: llava).format, .llava)
        let messages = try write(
            #"{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}"#,
            "chat.json")
        XCTAssertEqual(try DataFileBenchmark(file: messages).format, .messages)
        // A JSON array of SkillTune objects also loads.
        let array = try write(#"[{"prompt": "q", "answer": "a", "split": "eval"}]"#, "array.json")
        XCTAssertEqual(try DataFileBenchmark(file: array).examples(.eval, count: 1, seed: 0).first?.answer, "a")
    }

    func testHashSplitIsDeterministicDisjointAndKeepsConversationsWhole() throws {
        let items = (0..<60).map { i in
            "{\"id\": \"c\(i)\", \"conversations\": [{\"from\": \"human\", \"value\": \"q\(i)\"}, "
                + "{\"from\": \"gpt\", \"value\": \"a\(i)\"}, {\"from\": \"human\", \"value\": \"r\(i)\"}, "
                + "{\"from\": \"gpt\", \"value\": \"b\(i)\"}]}"
        }
        let b = try DataFileBenchmark(file: try write("[\n" + items.joined(separator: ",\n") + "\n]", "chat.json"))
        let train = try b.examples(.train, count: 1000, seed: 3)
        let eval = try b.examples(.eval, count: 1000, seed: 3)
        XCTAssertEqual(eval.count + train.count / 2, 60, "two training examples per training item, one eval")
        XCTAssertGreaterThan(eval.count, 5)
        XCTAssertLessThan(eval.count, 25)
        let trainItems = Set(train.map { String($0.id.split(separator: "#")[0]) })
        XCTAssertTrue(trainItems.isDisjoint(with: eval.map(\.id)), "an item's turns never straddle the splits")
        XCTAssertEqual(trainItems.count * 2, train.count)
        // The same items go to eval whatever the order of the file.
        let reversed = try DataFileBenchmark(
            file: try write("[\n" + items.reversed().joined(separator: ",\n") + "\n]", "chat2.json"), name: "chat")
        XCTAssertEqual(Set(try reversed.examples(.eval, count: 1000, seed: 0).map(\.id)), Set(eval.map(\.id)))
        XCTAssertEqual(try b.examples(.eval, count: 1000, seed: 3), eval, "same seed, same examples")
    }

    func testExplicitEvalFile() throws {
        let trainURL = try write(
            "{\"prompt\": \"q1\", \"answer\": \"a1\", \"split\": \"eval\"}\n{\"prompt\": \"q2\", \"answer\": \"a2\"}\n",
            "facts.jsonl")
        let evalURL = try write(
            #"[{"conversations": [{"from": "human", "value": "q3"}, {"from": "gpt", "value": "a3"}], "split": "train"}]"#,
            "facts-test.json")
        let b = try DataFileBenchmark(train: trainURL, eval: evalURL, role: .target, scoring: .exact)
        XCTAssertEqual(b.name, "facts")
        XCTAssertEqual(b.evalFile, evalURL)
        XCTAssertEqual(
            Set(try b.examples(.train, count: 9, seed: 0).map(\.id)), ["facts:1", "facts:2"],
            "split fields are ignored")
        XCTAssertEqual(
            try b.examples(.eval, count: 9, seed: 0), [Example(id: "facts-test:1", prompt: "q3", answer: "a3")])
        XCTAssertTrue(b.summary.contains("facts.jsonl + facts-test.json"), b.summary)

        let shared = try write(
            "{\"prompt\": \"q0\", \"answer\": \"a0\"}\n{\"prompt\": \"q2\", \"answer\": \"a2\"}\n",
            "shared.jsonl")
        XCTAssertThrowsError(try DataFileBenchmark(train: trainURL, eval: shared)) { error in
            XCTAssertTrue(
                "\(error)".contains("shared.jsonl: 1 problem")
                    && "\(error)".contains("line 2: the same item is in facts.jsonl line 2"),
                "\(error)")
        }
        let sameIDs = try write("{\"prompt\": \"q9\", \"answer\": \"a9\", \"id\": \"facts:1\"}\n", "ids.jsonl")
        XCTAssertThrowsError(try DataFileBenchmark(train: trainURL, eval: sameIDs)) { error in
            XCTAssertTrue("\(error)".contains("id \"facts:1\" is also used in facts.jsonl line 1"), "\(error)")
        }
        XCTAssertThrowsError(
            try DataFileBenchmark(train: trainURL, eval: temporary.appendingPathComponent("none.json"))
        ) {
            XCTAssertTrue("\($0)".contains("none.json: cannot read the file"), "\($0)")
        }
    }

    func testGradedScoringsAndSeveralAnswers() throws {
        let docs = try write(
            #"{"prompt": "Year?", "answers": ["1995", "1996 AD"], "id": "d1"}"# + "\n"
                + #"{"prompt": "Name?", "answer": "ACME Corp", "answers": ["acme"], "id": "d2"}"#, "docs.jsonl")
        let anls = try DataFileBenchmark(file: docs, scoring: .anls)
        let d1 = try XCTUnwrap(
            (try anls.examples(.train, count: 9, seed: 0) + anls.examples(.eval, count: 9, seed: 0))
                .first { $0.id == "d1" })
        XCTAssertEqual(d1.answer, "1995", "the first of \"answers\" is the training answer")
        XCTAssertEqual(anls.score(prediction: "1996", example: d1), 0.75, "best reference: 1 - 1/4")
        XCTAssertEqual(anls.score(prediction: "nothing like it", example: d1), 0)
        let d2 = Example(id: "d2", prompt: "Name?", answer: "ACME Corp")
        XCTAssertEqual(anls.score(prediction: "Acme", example: d2), 1, "\"answers\" adds references")
        XCTAssertEqual(anls.score(prediction: "acme corp.", example: d2), 1 - 1.0 / 10, accuracy: 1e-12)

        let charts = try write(
            #"{"prompt": "Value?", "answer": "35.7"}"# + "\n" + #"{"prompt": "Top?", "answer": "Yes"}"#,
            "charts.jsonl")
        let relaxed = try DataFileBenchmark(file: charts, scoring: .relaxed)
        let value = Example(id: "v", prompt: "", answer: "35.7")
        let top = Example(id: "t", prompt: "", answer: "Yes")
        for (p, s) in [("35.0", 1.0), (" 36.5\n", 1), ("37.5", 0), ("35.7%", 0)] {
            XCTAssertEqual(relaxed.score(prediction: p, example: value), s, p)
        }
        XCTAssertEqual(relaxed.score(prediction: "yes", example: top), 1)
        XCTAssertEqual(relaxed.score(prediction: "yes.", example: top), 0)

        XCTAssertEqual(
            DataFileBenchmark.Scoring.names,
            ["exact", "normalized", "numeric", "multiple-choice", "anls", "relaxed"])
        XCTAssertEqual(try DataFileBenchmark.Scoring.named("anls"), .anls)
        XCTAssertThrowsError(try DataFileBenchmark.Scoring.named("fuzzy")) {
            XCTAssertEqual(
                "\($0)", "unknown scoring 'fuzzy'; scorings: exact, normalized, numeric, multiple-choice, anls, relaxed"
            )
        }
    }

    func testScoringChecksOnlyTheScoredTurn() throws {
        let chat = try write(
            #"{"messages": [{"role": "user", "content": "Ready?"}, {"role": "assistant", "content": "Yes, go on."}, "#
                + #"{"role": "user", "content": "Pick: A. cat B. dog"}, {"role": "assistant", "content": "B"}], "options": ["cat", "dog"], "id": "x"}"#,
            "mc.jsonl")
        let b = try DataFileBenchmark(file: chat, scoring: .multipleChoice)
        let scored = Example(id: "x", prompt: "", answer: "B")
        XCTAssertEqual(b.score(prediction: "dog", example: scored), 1)
        let bad = try write(
            #"{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "many"}]}"#,
            "num.jsonl")
        XCTAssertThrowsError(try DataFileBenchmark(file: bad, scoring: .numeric)) {
            XCTAssertTrue("\($0)".contains("line 1: numeric answer \"many\" has no number"), "\($0)")
        }
    }

    func testMalformedLLaVAItemsAreReportedWithItemAndLine() throws {
        XCTAssertThrowsError(try DataFileBenchmark(file: fixtures.appendingPathComponent("llava_bad.json"))) { error in
            guard let e = error as? DataFileBenchmark.LoadError else { return XCTFail("\(error)") }
            let byLine = Dictionary(e.problems.map { ($0.line, $0.reason) }, uniquingKeysWith: { a, _ in a })
            XCTAssertEqual(Set(byLine.keys), Set(3...13), "\(e)")
            let expected: [Int: String] = [
                3: "item 2: 2 images; at most one per item is supported",
                4: "item 3: the prompt has 1 <image> placeholder but the item has no image",
                5: "item 4: the conversation ends with a user message",
                6: "item 5: \"conversations\"[0]: unknown from \"bot\" (expected human, gpt or system)",
                7: "item 6: \"conversations\"[1]: two user messages in a row",
                8: "item 7: image images/missing.png: cannot read the file",
                9: "item 8: missing the \"conversations\" field",
                10: "item 9: not valid JSON",
                11: "item 10: expected a JSON object",
                12: "item 11: \"conversations\"[1]: the answer is empty",
                13: "id \"ok\" is already used on line 2",
            ]
            for (line, text) in expected {
                XCTAssertTrue(byLine[line]?.hasPrefix(text) == true, "line \(line): \(byLine[line] ?? "-")")
            }
            XCTAssertTrue(e.description.contains("llava_bad.json: 11 problems\n  line 3: item 2: "), e.description)
        }
    }

    func testMalformedMessagesLinesAreReportedWithLineNumbers() throws {
        XCTAssertThrowsError(try DataFileBenchmark(file: fixtures.appendingPathComponent("messages_bad.jsonl"))) {
            error in
            guard let e = error as? DataFileBenchmark.LoadError else { return XCTFail("\(error)") }
            let byLine = Dictionary(e.problems.map { ($0.line, $0.reason) }, uniquingKeysWith: { a, _ in a })
            let expected: [Int: String] = [
                2: "\"messages\" must be a non-empty array of messages",
                3: "\"messages\"[0]: an answer with no user message before it",
                4: "\"messages\"[0] part 0: unknown type \"video\" (expected text or image)",
                5: "the prompt has 1 <image> placeholder but the item has no image",
                6: "\"messages\"[1]: a system message is accepted only first",
                7: "\"messages\"[0]: \"content\" must be a string or a list of",
                8: "turn 1: an <image> placeholder in the answer",
                9: "image http://example.com/a.png: remote images are not supported",
                10: "missing the \"messages\" field",
            ]
            XCTAssertEqual(Set(byLine.keys), Set(expected.keys), "\(e)")
            for (line, text) in expected {
                XCTAssertTrue(byLine[line]?.hasPrefix(text) == true, "line \(line): \(byLine[line] ?? "-")")
            }
        }
    }

    func testWholeFileProblemsOfJSONArrays() throws {
        for (text, reason) in [
            ("[{\"id\": 1}", "the JSON array is not closed"), ("[] extra", "line 1: text after the closing ]"),
            ("[]", "no examples (the file has no items)"),
        ] {
            XCTAssertThrowsError(try DataFileBenchmark(file: try write(text, "a.json"))) {
                XCTAssertTrue("\($0)".contains(reason), "\(text): \($0)")
            }
        }
        let three = "[" + Array(repeating: #"{"prompt": "q", "answer": "a"}"#, count: 3).joined(separator: ",") + "]"
        XCTAssertThrowsError(try DataFileBenchmark(file: try write(three, "b.json"), maxItems: 2)) {
            XCTAssertTrue("\($0)".contains("more than 2 items"), "\($0)")
        }
        XCTAssertThrowsError(try DataFileBenchmark(file: URL(fileURLWithPath: "/dev/zero"))) {
            XCTAssertTrue("\($0)".contains("not a regular file"), "\($0)")
        }
    }

    func testImagesFromAFolderAndDataURIs() throws {
        let png = try Data(contentsOf: fixtures.appendingPathComponent("images/blue.png")).base64EncodedString()
        let text =
            #"[{"image": "red.ppm", "conversations": [{"from": "human", "value": "<image> q"}, {"from": "gpt", "value": "a"}], "split": "eval"},"#
            + #"{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,"#
            + png + #""}}, {"type": "text", "text": "r"}]}, {"role": "assistant", "content": "b"}], "split": "train"}]"#
        let b = try DataFileBenchmark(
            file: try write(text, "mixed.json"),
            imageFolder: fixtures.appendingPathComponent("images"))
        XCTAssertEqual(try b.examples(.eval, count: 1, seed: 0).first?.image, red)
        XCTAssertEqual(try b.examples(.train, count: 1, seed: 0).first?.image, blue)
        XCTAssertEqual(try b.examples(.train, count: 1, seed: 0).first?.prompt, "<image>\nr")
    }
}
