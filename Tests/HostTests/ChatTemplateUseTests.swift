import Foundation
import Host
import Kernel
import XCTest

/// The chat-template choice (`ChatTemplateUse`): on by default for a checkpoint that has a template, off on
/// request, refused when required of a model without one, recorded in study files and tuning results, and
/// applied to every fresh load of a study's base model.
final class ChatTemplateUseTests: ScratchTestCase {
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/data")
    let registries = SkillTuneRegistries.builtIn()
    override class var scratchPrefix: String { "chat-use" }

    func tinyQwen2() throws -> any Backbone {
        try registries.backbone(reference: Self.shipped.appendingPathComponent("tiny-qwen2").path)
    }

    func testAutoRendersPromptsWithTheCheckpointTemplateAndOffKeepsThemPlain() throws {
        let model = try tinyQwen2()
        let chat = try XCTUnwrap(model as? ChatTemplating)
        XCTAssertTrue(chat.supportsChatTemplate, "the shipped tiny Qwen2 carries a Qwen2.5 chat template")
        XCTAssertTrue(try ChatTemplateUse.auto.apply(to: model))
        let rendered = try chat.renderChat(
            [ChatMessage(role: "user", content: "Is 47 odd?")], addGenerationPrompt: true)
        XCTAssertTrue(rendered.hasSuffix("<|im_start|>assistant\n"), rendered)
        XCTAssertEqual(
            model.encodePrompt("Is 47 odd?", hasImage: false), model.tokenizer.encode(rendered),
            "a prompt is the rendered conversation up to the generation prompt")
        XCTAssertFalse(try ChatTemplateUse.off.apply(to: model))
        XCTAssertFalse(chat.useChatTemplate)
        XCTAssertEqual(model.encodePrompt("Is 47 odd?", hasImage: false), model.tokenizer.encode("Is 47 odd?"))
        XCTAssertTrue(try ChatTemplateUse.on.apply(to: model))
    }

    func testOnIsRefusedForAModelWithoutATemplateAndAutoLeavesItAlone() throws {
        let model = try registries.backbone(reference: "tiny-llava:tiny")
        XCTAssertFalse(try ChatTemplateUse.auto.apply(to: model))
        XCTAssertThrowsError(try ChatTemplateUse.on.apply(to: model)) { error in
            XCTAssertTrue("\(error)".contains("has none"), "\(error)")
        }
    }

    func testFlagsMapToTheChoice() throws {
        XCTAssertEqual(try ChatTemplateUse.fromFlags(chat: false, noChat: false), .auto)
        XCTAssertEqual(try ChatTemplateUse.fromFlags(chat: true, noChat: false), .on)
        XCTAssertEqual(try ChatTemplateUse.fromFlags(chat: false, noChat: true), .off)
        XCTAssertThrowsError(try ChatTemplateUse.fromFlags(chat: true, noChat: true))
    }

    func testStudyFilesCarryTheChoice() throws {
        var config = try StudyConfig.defaults(preset: "tiny")
        XCTAssertEqual(config.chatTemplate, .auto)
        config.chatTemplate = .off
        let written = try JSONEncoder().encode(config)
        let read = try StudyFile.parse(written, file: "study.json", directory: scratch, preset: "tiny")
        XCTAssertEqual(read.chatTemplate, .off)
        XCTAssertEqual(try StudyFile.parse(Data("{}".utf8), file: "s.json", directory: scratch).chatTemplate, .auto)
        XCTAssertThrowsError(
            try StudyFile.parse(Data("{\"chatTemplate\": \"sometimes\"}".utf8), file: "s.json", directory: scratch)
        ) { error in XCTAssertTrue("\(error)".contains("chatTemplate"), "\(error)") }
        // A study.json written before the field existed reads as auto.
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: written) as? [String: Any])
        object["chatTemplate"] = nil
        let old = try JSONDecoder().decode(StudyConfig.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertEqual(old.chatTemplate ?? .auto, .auto)
    }

    /// The same study with the template (the default) and without: both record the choice in study.json, and
    /// the prompts differ, so the base model's scores come from differently rendered prompts.
    func testAStudyOfACheckpointUsesItsTemplateUnlessTurnedOff() throws {
        func run(_ use: ChatTemplateUse, _ out: String) throws -> (StudyResults, [String], URL) {
            var c = try StudyConfig.defaults(preset: "tiny")
            c.model = Self.shipped.appendingPathComponent("tiny-qwen2").path
            c.targets = [Self.shipped.appendingPathComponent("parity.jsonl").path]
            c.heldOut = [Self.shipped.appendingPathComponent("facts.jsonl").path]
            c.strategies = ["sa-proj"]
            c.training.steps = 1
            c.chatTemplate = use
            let directory = scratch.appendingPathComponent(out)
            let study = Study(config: c, registries: registries, outputDirectory: directory, resume: false)
            var lines: [String] = []
            study.log = { lines.append($0) }
            return (try study.run(), lines, directory.appendingPathComponent("study.json"))
        }
        let (_, chatLog, chatFile) = try run(.auto, "chat")
        let (_, plainLog, plainFile) = try run(.off, "plain")
        XCTAssertTrue(chatLog.contains { $0.contains("prompts in its chat template") }, chatLog.joined(separator: "\n"))
        XCTAssertFalse(plainLog.contains { $0.contains("chat template") }, plainLog.joined(separator: "\n"))
        XCTAssertEqual(try StudyFile.read(chatFile, preset: "tiny").chatTemplate, .auto)
        XCTAssertEqual(try StudyFile.read(plainFile, preset: "tiny").chatTemplate, .off)
    }

    func testTuningResultsRecordWhetherTheTemplateWasUsed() throws {
        for use in [ChatTemplateUse.auto, .off] {
            let model = try tinyQwen2()
            try use.apply(to: model)
            let run = try TuningRun(
                model: model, strategy: registries.tuningStrategy("sa-proj"),
                data: registries.tuningData([Self.shipped.appendingPathComponent("parity.jsonl").path]),
                watch: [], settings: TuningSettings(steps: 1, batchSize: 4, learningRate: 1e-3, evalExamples: 4))
            run.log = { _ in }
            XCTAssertEqual(try run.run().settings.chatTemplate, use == .auto)
        }
    }

    /// A text-only model never sees the image placeholder: not in the prompt, not in an earlier user turn (a
    /// LLaVA conversation puts `<image>` in its first human turn), with the template on or off.
    func testATextOnlyModelGetsConversationsWithoutTheImagePlaceholder() throws {
        let model = try tinyQwen2()
        XCTAssertFalse(model.acceptsImages)
        let example = Example(
            id: "c", prompt: "And its color?", answer: "black", image: nil, system: nil,
            history: [ChatTurn(user: "<image>\nWhat is shown?", assistant: "a cat")])
        for use in [ChatTemplateUse.on, .off] {
            try use.apply(to: model)
            let ids = model.encodePrompt(for: example)
            XCTAssertEqual(
                ids,
                model.encodeConversation(
                    system: nil, history: [ChatTurn(user: "What is shown?", assistant: "a cat")],
                    prompt: "And its color?", hasImage: false), "\(use)")
            XCTAssertFalse(model.tokenizer.decode(ids).contains("<image>"), model.tokenizer.decode(ids))
        }
    }
}
