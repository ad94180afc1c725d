// Tune a Hugging Face checkpoint on your own data files and take the tuned model away, with the library API
// alone: load the tiny Qwen2 the repository ships (examples/data/tiny-qwen2), teach it two skills with sa-proj
// (one stage per data file), watch what it knew before (facts.jsonl), print the accuracies, export.
//
//   swift run -c release TuneYourModel [--out DIR] [--steps N] [--strategy NAME]
//
// The export is a Qwen2 checkpoint in the input's layout and dtype (bfloat16 here) that transformers loads with
// AutoModelForCausalLM.from_pretrained(DIR); `skilltune tune` is the same run on the command line.
import Foundation
import Host
import Kernel

let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("data")
var out = "tuned-tiny-qwen2"
var steps = 150
var strategyName = "sa-proj"
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard let value = arguments.popFirst() else { fatalError("\(flag) needs a value") }
    switch flag {
    case "--out": out = value
    case "--steps": steps = Int(value) ?? steps
    case "--strategy": strategyName = value
    default: fatalError("unknown option \(flag); options: --out, --steps, --strategy")
    }
}

do {
    let registries = SkillTuneRegistries.builtIn()
    let checkpoint = data.appendingPathComponent("tiny-qwen2").path
    let model = try registries.backbone(reference: checkpoint)
    // Prompts as the model was trained to read them: its chat template, when it has one (as `skilltune tune`
    // does unless --no-chat).
    try ChatTemplateUse.auto.apply(to: model)
    let run = try TuningRun(
        model: model,
        strategy: registries.tuningStrategy(strategyName),
        data: registries.tuningData([
            data.appendingPathComponent("parity.jsonl").path,
            data.appendingPathComponent("sign.jsonl").path,
        ]),
        watch: [registries.benchmark(reference: data.appendingPathComponent("facts.jsonl").path, role: .heldOut)],
        settings: TuningSettings(steps: steps, batchSize: 8, learningRate: 3e-3, seed: 0),
        modelReference: checkpoint)
    run.log = { _ in }
    Progress.isEnabled = false
    try run.checkExportable()  // before training: this strategy's result fits the checkpoint's format
    let result = try run.run()
    print(result.table(), terminator: "")
    for stage in result.stages {
        print(
            String(
                format: "stage %@: %d train examples, loss %.3f -> %.3f", stage.name, stage.trainExamples,
                (stage.losses.first ?? nil) ?? .nan, (stage.losses.last ?? nil) ?? .nan))
    }
    let export = try run.export(to: URL(fileURLWithPath: out), replacing: true)
    print("exported (\(export.format.rawValue)) to \(export.path): \(export.files.joined(separator: ", "))")
} catch {
    FileHandle.standardError.write("TuneYourModel: \(error)\n".data(using: .utf8)!)
    exit(1)
}
