import Foundation
import Host
import Kernel
import SkillSuite

extension SkillTuneCommands {
    static func list(_ registries: SkillTuneRegistries) -> Command {
        Command(
            name: "list",
            summary: "List the registered strategies (with options and defaults), backbones and benchmarks.",
            usage: "[--json]",
            discussion: """
                JSON form: {"strategies":[{"name":..,"summary":..,"options":{..}}],"backbones":[..],"benchmarks":[..]}
                where a strategy's options map each option name to its default value.
                """,
            options: [.flag("json", "Print JSON.")]
        ) { a in
            struct Named: Codable {
                var name: String
                var summary: String
            }
            struct StrategyInfo: Codable {
                var name: String
                var summary: String
                var options: [String: String]
                var help: [String: String]
            }
            struct BackboneInfo: Codable {
                var name: String
                var summary: String
                var presets: [String]
            }
            struct BenchmarkInfo: Codable {
                var name: String
                var summary: String
                var role: String
            }
            struct Listing: Codable {
                var strategies: [StrategyInfo]
                var backbones: [BackboneInfo]
                var benchmarks: [BenchmarkInfo]
            }
            var strategies: [StrategyInfo] = []
            for e in registries.strategies.entries {
                // A strategy that needs options to exist (e.g. components without --trainable) shows none.
                let options = (try? e.make([:]))?.options ?? []
                strategies.append(
                    StrategyInfo(
                        name: e.name, summary: e.summary,
                        options: Dictionary(uniqueKeysWithValues: options.map { ($0.name, $0.defaultValue) }),
                        help: Dictionary(uniqueKeysWithValues: options.map { ($0.name, $0.help) })))
            }
            let backbones = registries.backbones.entries.map {
                BackboneInfo(name: $0.name, summary: $0.summary, presets: $0.make.presets)
            }
            let benchmarks = try registries.benchmarks.entries.map { e -> BenchmarkInfo in
                BenchmarkInfo(name: e.name, summary: e.summary, role: try e.make().role.rawValue)
            }
            if a.flag("json") {
                print(
                    String(
                        decoding: try ResultFiles.encoder.encode(
                            Listing(strategies: strategies, backbones: backbones, benchmarks: benchmarks)),
                        as: UTF8.self))
                return
            }
            print("STRATEGIES")
            for s in strategies {
                print("  " + s.name.padding(toLength: 14, withPad: " ", startingAt: 0) + s.summary)
                for (k, v) in s.options.sorted(by: { $0.key < $1.key }) {
                    print("      --option \(s.name).\(k)=\(v)    \(s.help[k] ?? "")")
                }
            }
            print("\nBACKBONES")
            for b in backbones {
                print(
                    "  " + b.name.padding(toLength: 14, withPad: " ", startingAt: 0) + b.summary
                        + " [presets: \(b.presets.joined(separator: ", "))]")
            }
            print("\nBENCHMARKS")
            for b in benchmarks { print("  " + b.name.padding(toLength: 14, withPad: " ", startingAt: 0) + b.summary) }
        }
    }

    static func show(_ registries: SkillTuneRegistries) -> Command {
        Command(
            name: "show",
            summary: "Write a contact sheet of a benchmark's examples (PNG) with their prompts and answers.",
            usage: "BENCHMARK [--count N] [--seed N] [--split eval|train] [--descriptions] [--out DIR]",
            options: [
                .value("count", "N", "Examples to draw.", default: "16"), .value("seed", "N", "Seed.", default: "0"),
                .value("split", "NAME", "eval or train.", default: "eval"),
                .flag(
                    "descriptions", "Show the dense descriptions the base model pretrains on instead of the questions."),
                .value("out", "DIR", "Output directory (default: show-BENCHMARK)."),
            ],
            maxPositionals: 1
        ) { a in
            guard let name = a.positionals.first else {
                throw UsageError(
                    "which benchmark? e.g. 'skilltune show clock' (see 'skilltune list')", command: a.command)
            }
            guard let split = Split(rawValue: a.string("split")!) else {
                throw UsageError(
                    "option '--split' must be eval or train, got '\(a.string("split")!)'", command: a.command)
            }
            let benchmark = try registries.benchmark(name)
            let out = URL(fileURLWithPath: a.string("out") ?? "show-\(name)")
            let result = try ContactSheet.write(
                benchmark, count: try a.int("count", in: 1...10_000)!,
                seed: UInt64(try a.int("seed", in: 0...Int.max)!), split: split,
                descriptions: a.flag("descriptions"), to: out)
            print("wrote \(result.sheet.path) and the prompts and answers beside it")
        }
    }

    static func run(_ registries: SkillTuneRegistries) -> Command {
        let base = compare(registries)
        return Command(
            name: "run", summary: "Run the study for one strategy (the same as 'compare --strategies NAME').",
            usage: "--strategy NAME [compare's options]",
            discussion: "Takes every option of 'compare' except --strategies.",
            options: base.options.filter { $0.name != "strategies" && $0.name != "help" }
                + [.value("strategy", "NAME", "The strategy to run.")]
        ) { a in
            let strategy = try a.required("strategy")
            var arguments = ["--strategies", strategy]
            for o in base.options where o.name != "strategies" && o.name != "help" && a.has(o.name) {
                if o.isFlag {
                    if a.flag(o.name) { arguments.append("--\(o.name)") }
                } else {
                    for v in o.repeatable ? a.strings(o.name) : [a.string(o.name)!] { arguments += ["--\(o.name)", v] }
                }
            }
            try base.run(ParsedArguments(command: "run", arguments: arguments, options: base.options))
        }
    }

    static func probeCountingBias(_ registries: SkillTuneRegistries) -> Command {
        Command(
            name: "probe counting-bias",
            summary: "Probability mass on number tokens while a model answers held-out and counting prompts.",
            usage: "--model DIR [--base DIR] [--held-out LIST] [--counting NAME|FILE|none] [--examples N] [--json]",
            discussion: """
                Decodes greedily on held-out prompts (the caption benchmark's by default) and on counting prompts; at every step records the total
                softmax probability on number tokens (digits, ordinals, decimals, number words, found in the
                tokenizer's vocabulary), the largest number-token probability and the largest number logit. Prints
                per split the mean and std over samples of each sample's mean and max over steps. With --base, the
                base model is probed too, for comparison. Text-only backbones get the prompts without images.
                --held-out and --counting take registered names and data files alike (FILE[@scoring]); --counting
                none leaves the counting split empty (0 samples).
                """,
            options: [
                .value("model", "DIR", "The model to probe (directory or backbone[:preset])."),
                .value("base", "DIR", "A base model to probe alongside."),
                .value(
                    "held-out", "LIST", "Benchmarks or data files whose eval prompts form the held-out split.",
                    default: "caption"),
                .value(
                    "counting", "NAME", "Benchmark or data file of the counting split, or 'none'.", default: "count"),
                .value("examples", "N", "Prompts per split.", default: "32"),
                .value("seed", "N", "Seed of the prompts.", default: "0"),
                .value("max-new-tokens", "N", "Steps decoded per prompt.", default: "12"),
                .flag("json", "Print JSON."),
            ] + ChatOptions.specs
        ) { a in
            let n = try a.int("examples", in: 1...100_000)!
            let seed = UInt64(try a.int("seed", in: 0...Int.max)!)
            let maxNew = try a.int("max-new-tokens", in: 1...4096)!
            let heldOut = try a.list("held-out")!.map { try registries.benchmark(reference: $0, role: .heldOut) }
            let perBenchmark = max(1, n / max(1, heldOut.count))
            let captions = try heldOut.flatMap {
                try $0.examples(.eval, count: heldOut.count == 1 ? n : perBenchmark, seed: seed)
            }
            let countingName = a.string("counting")!
            let counting =
                countingName == "none"
                ? []
                : try registries.benchmark(reference: countingName, role: .target).examples(
                    .eval, count: n, seed: seed &+ 1)
            var results: [String: CountingBiasResult] = [:]
            let chat = try ChatOptions.use(a)
            var order = ["model"]
            if a.has("base") { order.insert("base", at: 0) }
            for key in order {
                let model = try registries.backbone(reference: try a.required(key))
                try chat.apply(to: model)
                results[key] = CountingBiasProbe.run(
                    model, stage: key,
                    heldOutPrompts: captions.map { Evaluator.request(for: $0, model: model) },
                    countingPrompts: counting.map { Evaluator.request(for: $0, model: model) },
                    maxNewTokens: maxNew)
            }
            if a.flag("json") {
                print(String(decoding: try ResultFiles.encoder.encode(results), as: UTF8.self))
                return
            }
            for key in order {
                let r = results[key]!
                for (split, s) in [("held-out", r.heldOut), ("counting", r.counting)] {
                    print(
                        String(
                            format:
                                "%@ %@: number mass mean %.4f ± %.4f, max %.4f ± %.4f; max number prob mean %.4f; max number logit mean %.3f (%d samples)",
                            key, split, s.numberMassMean.mean, s.numberMassMean.std, s.numberMassMax.mean,
                            s.numberMassMax.std,
                            s.maxNumberProbabilityMean.mean, s.maxNumberLogitMean.mean, s.samples))
                }
            }
        }
    }

    static func probeLayerShift(_ registries: SkillTuneRegistries) -> Command {
        Command(
            name: "probe layer-shift",
            summary: "Per decoder layer, how far tuning moved the attention and MLP outputs in output-token space.",
            usage: "--model DIR --base DIR [--held-out LIST] [--examples N] [--json]",
            discussion: """
                For held-out examples (prompt and reference answer, teacher-forced), runs both models and, for every
                decoder layer, takes the self-attention output and the MLP output (before the residual add) at each
                answer token, projects each model's output through its OWN lm_head, and measures the L2 norm of the
                difference, ||W_tuned h_tuned - W_base h_base||: the mean over a sample's answer tokens, then over
                samples. --held-out takes registered names and data files alike (default: the study's held-out set).
                """,
            options: [
                .value("model", "DIR", "The tuned model."), .value("base", "DIR", "The base model."),
                .value(
                    "held-out", "LIST", "Benchmarks or data files whose eval examples are probed.",
                    default: StudyConfig.studyHeldOut.joined(separator: ",")),
                .value("examples", "N", "Examples per held-out benchmark.", default: "4"),
                .value("seed", "N", "Seed of the examples.", default: "0"),
                .flag("json", "Print JSON."),
            ] + ChatOptions.specs
        ) { a in
            let tuned = try registries.backbone(reference: try a.required("model"))
            let base = try registries.backbone(reference: try a.required("base"))
            let chat = try ChatOptions.use(a)
            try chat.apply(to: tuned)
            try chat.apply(to: base)
            let n = try a.int("examples", in: 1...10_000)!
            let seed = UInt64(try a.int("seed", in: 0...Int.max)!)
            var examples: [Example] = []
            for name in a.list("held-out")! {
                examples += try registries.benchmark(reference: name, role: .heldOut).examples(
                    .eval, count: n, seed: seed)
            }
            let r = LayerShiftProbe.run(base: base, tuned: tuned, examples: examples, stage: "model")
            if a.flag("json") {
                print(String(decoding: try ResultFiles.encoder.encode(r), as: UTF8.self))
                return
            }
            print("layer  attention      mlp")
            for i in r.attention.indices { print(String(format: "%5d  %9.4f  %9.4f", i, r.attention[i], r.mlp[i])) }
        }
    }
}
