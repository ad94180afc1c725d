import Foundation
import Host
import Kernel

extension SkillTuneCommands {
    static func eval(_ registries: SkillTuneRegistries) -> Command {
        Command(
            name: "eval", summary: "Evaluate a model on benchmarks with greedy decoding.",
            usage:
                "--model DIR [--benchmarks LIST] [--examples N] [--seed N] [--split eval|train] [--descriptions] [--show N] [--log-samples DIR] [--json]",
            discussion: """
                Prints the accuracy on each benchmark's eval split (the same examples 'compare' uses for the same
                --examples and --seed). --show N also prints the first N prompts, reference answers and predictions
                of each benchmark. --split train scores the first examples of the train split instead (the ones the
                base model was pretrained on for the same --seed): a gap between the two splits is overfitting.
                --descriptions scores the benchmarks' dense descriptions ("Describe the image in detail.") instead of their
                questions, by exact words: whether the model sees what the pictures show.
                --benchmarks takes registered names and data files alike (FILE[@scoring], e.g. arith.jsonl@numeric).
                --log-samples DIR writes DIR/<benchmark>.jsonl: every evaluated example's id, prompt, reference,
                prediction and score, one JSON object a line.
                """,
            options: [
                .value("model", "DIR", "A checkpoint directory, or a backbone name[:preset] for fresh weights."),
                .value(
                    "benchmarks", "LIST", "Benchmarks or data files (comma-separated), or 'all' for the study's 13.",
                    default: "all"),
                .value("examples", "N", "Eval examples per benchmark.", default: "100"),
                .value("seed", "N", "Seed of the split.", default: "0"),
                .value("split", "NAME", "Which split to score: eval or train.", default: "eval"),
                .value(
                    "max-new-tokens", "N", "Longest answer decoded (at least 48 with --descriptions).", default: "12"),
                .flag(
                    "descriptions",
                    "Score the dense descriptions of the benchmarks' pictures (exact words) instead of their questions."
                ),
                .value(
                    "show", "N", "Print the first N examples of each benchmark with the model's answer.", default: "0"),
                .value(
                    "log-samples", "DIR",
                    "Write every evaluated example with the prediction and score to DIR/<benchmark>.jsonl."),
                .flag("json", "Print {\"benchmarks\":[{\"name\":..,\"accuracy\":..}]}."),
            ] + ChatOptions.specs
        ) { a in
            let model = try registries.backbone(reference: try a.required("model"))
            try ChatOptions.use(a).apply(to: model)
            let names =
                a.list("benchmarks")! == ["all"]
                ? StudyConfig.studyTargets + StudyConfig.studyHeldOut : a.list("benchmarks")!
            let count = try a.int("examples", in: 1...1_000_000)!
            let seed = UInt64(try a.int("seed", in: 0...Int.max)!)
            guard let split = Split(rawValue: a.string("split")!) else {
                throw HostError("--split: expected eval or train, got '\(a.string("split")!)'")
            }
            let show = try a.int("show", in: 0...1_000_000)!
            let maxNew = try a.int("max-new-tokens", in: 1...4096)!
            struct Row: Codable {
                var name: String
                var accuracy: Double
            }
            var rows: [Row] = []
            for name in names {
                let benchmark = try registries.benchmark(reference: name, role: .heldOut)
                let outcome: Evaluator.Outcome
                let examples: [Example]
                if a.flag("descriptions") {
                    examples = try benchmark.descriptionExamples(split, count: count, seed: seed)
                    guard !examples.isEmpty else { continue }
                    outcome = Evaluator.evaluate(
                        model, examples: examples, maxNewTokens: max(maxNew, 48), score: Evaluator.sameWords)
                } else {
                    examples = try benchmark.examples(split, count: count, seed: seed)
                    outcome = Evaluator.evaluate(model, on: benchmark, examples: examples, maxNewTokens: maxNew)
                }
                rows.append(Row(name: benchmark.name, accuracy: outcome.accuracy))
                if let directory = a.string("log-samples") {
                    try SampleLog.write(
                        SampleLog.records(examples, outcome), benchmark: benchmark.name,
                        in: URL(fileURLWithPath: directory))
                }
                if !a.flag("json") {
                    print(
                        benchmark.name.padding(toLength: 14, withPad: " ", startingAt: 0)
                            + String(format: "%6.1f", outcome.accuracy))
                    for i in 0..<min(show, examples.count) {
                        print(
                            "    \(outcome.scores[i] > 0 ? "✓" : "✗") \(examples[i].prompt)  →  \(outcome.predictions[i])   [reference: \(examples[i].answer)]"
                        )
                    }
                }
            }
            if a.flag("json") {
                struct Output: Codable { var benchmarks: [Row] }
                print(String(decoding: try ResultFiles.encoder.encode(Output(benchmarks: rows)), as: UTF8.self))
            }
        }
    }
}
