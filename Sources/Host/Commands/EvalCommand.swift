import Foundation
import Kernel

extension SkillTuneCommands {
    static func eval(_ registries: SkillTuneRegistries) -> Command {
        Command(
            name: "eval", summary: "Evaluate a model on benchmarks with greedy decoding.",
            usage: "--model DIR [--benchmarks LIST] [--examples N] [--seed N] [--show N] [--json]",
            discussion: """
            Prints the accuracy on each benchmark's eval split (the same examples 'compare' uses for the same
            --examples and --seed). --show N also prints the first N prompts, reference answers and predictions
            of each benchmark.
            """,
            options: [
                .value("model", "DIR", "A checkpoint directory, or a backbone name[:preset] for fresh weights."),
                .value("benchmarks", "LIST", "Benchmarks (comma-separated), or 'all' for the study's 13.", default: "all"),
                .value("examples", "N", "Eval examples per benchmark.", default: "100"),
                .value("seed", "N", "Seed of the eval split.", default: "0"),
                .value("max-new-tokens", "N", "Longest answer decoded.", default: "12"),
                .value("show", "N", "Print the first N examples of each benchmark with the model's answer.", default: "0"),
                .flag("json", "Print {\"benchmarks\":[{\"name\":..,\"accuracy\":..}]}."),
            ]) { a in
            let model = try registries.backbone(reference: try a.required("model"))
            let names = a.list("benchmarks")! == ["all"] ? StudyConfig.studyTargets + StudyConfig.studyHeldOut : a.list("benchmarks")!
            let count = try a.int("examples", in: 1...1_000_000)!, seed = UInt64(try a.int("seed", in: 0...Int.max)!)
            let show = try a.int("show", in: 0...1_000_000)!, maxNew = try a.int("max-new-tokens", in: 1...4096)!
            struct Row: Codable { var name: String; var accuracy: Double }
            var rows: [Row] = []
            for name in names {
                let benchmark = try registries.benchmark(name)
                let examples = try benchmark.examples(.eval, count: count, seed: seed)
                let outcome = Evaluator.evaluate(model, on: benchmark, examples: examples, maxNewTokens: maxNew)
                rows.append(Row(name: name, accuracy: outcome.accuracy))
                if !a.flag("json") {
                    print(name.padding(toLength: 14, withPad: " ", startingAt: 0) + String(format: "%6.1f", outcome.accuracy))
                    for i in 0..<min(show, examples.count) {
                        print("    \(outcome.scores[i] > 0 ? "✓" : "✗") \(examples[i].prompt)  →  \(outcome.predictions[i])   [reference: \(examples[i].answer)]")
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
