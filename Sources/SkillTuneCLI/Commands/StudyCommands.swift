import Foundation
import Host
import Kernel

/// `--chat` / `--no-chat`: whether prompts go through the model's chat template (`ChatTemplateUse`; the
/// default, neither flag, renders with it when the model has one).
enum ChatOptions {
    static let specs: [OptionSpec] = [
        .flag("chat", "Require the model's chat template for prompts (the default uses it when the model has one)."),
        .flag("no-chat", "Plain prompts, not the model's chat template."),
    ]

    /// The choice the flags make, nil when neither is given.
    static func given(_ a: ParsedArguments) throws -> ChatTemplateUse? {
        guard a.flag("chat") || a.flag("no-chat") else { return nil }
        do { return try ChatTemplateUse.fromFlags(chat: a.flag("chat"), noChat: a.flag("no-chat")) } catch {
            throw UsageError("\(error)", command: a.command)
        }
    }

    /// The choice for a command without a study file: the flags', else `auto`.
    static func use(_ a: ParsedArguments) throws -> ChatTemplateUse { try given(a) ?? .auto }
}

/// Options every study command shares, and how they change a `StudyConfig`.
enum StudyOptions {
    static let specs: [OptionSpec] =
        [
            .value("config", "FILE", "A study file (JSON: any of study.json's fields); flags given here override it."),
            .value(
                "model", "DIR",
                "Study this checkpoint (a Hugging Face Qwen2, Llama, LLaVA, LLaVA-OneVision, Qwen2-VL or Qwen2.5-VL directory, or one SkillTune saved) instead of pretraining the built-in backbone."
            ),
            .value("backbone", "NAME", "Backbone to study (see 'skilltune list').", default: "tiny-llava"),
            .value(
                "preset", "NAME", "Size and budget: quick (smoke test, ~1 min) or small (the study).", default: "small"),
            .value("seed", "N", "Seed for data, initialisation and order.", default: "0"),
            .value(
                "seeds", "LIST",
                "Run the whole study once per seed (e.g. 0,1,2; each its own base model) and report each strategy's mean and 95% interval."
            ),
            .value(
                "targets", "LIST",
                "Target skills in training order (comma-separated): benchmark names or data files (FILE[@scoring]; the file name names the stage).",
                default: StudyConfig.studyTargets.joined(separator: ",")),
            .value(
                "held-out", "LIST", "Held-out benchmarks to watch (comma-separated names or data files).",
                default: StudyConfig.studyHeldOut.joined(separator: ",")),
            .value(
                "eval-data", "NAME=FILE",
                "An explicit eval file for the target or held-out data file named NAME (its file name without the "
                    + "extension), instead of its hash split (repeatable).", repeatable: true),
            .value("steps", "N", "Optimizer steps per stage (default: the preset's)."),
            .value("batch-size", "N", "Examples per step (default: the preset's)."),
            .value("lr", "X", "Peak learning rate (default: the preset's)."),
            .value("train-examples", "N", "Train examples per target (default: the preset's)."),
            .value("eval-examples", "N", "Eval examples per benchmark (default: the preset's)."),
            .value("pretrain-steps", "N", "Base-model pretraining steps (default: the preset's)."),
            .value("pretrain-lr", "X", "Base-model pretraining peak learning rate (default: the preset's)."),
            .value("threads", "N", "Threads for the kernels (default: SKILLTUNE_THREADS or all cores)."),
            probeAtOption,
            .flag("skip-non-finite", "Skip steps whose loss or gradient is NaN/inf instead of stopping that strategy."),
            .flag("quiet", "No progress or log lines on standard error (the summary is still printed)."),
        ] + ChatOptions.specs

    /// The settings: the study file's (`--config`) or the preset's, then every flag given on the command line
    /// (without a study file, the flags' defaults too).
    static func config(_ a: ParsedArguments) throws -> StudyConfig {
        if let threads = try a.int("threads", in: 1...256) { Parallel.threads = threads }
        if a.flag("quiet") { Progress.isEnabled = false }
        let fromFile = a.has("config")
        var c: StudyConfig
        if let file = a.string("config") {
            c = try StudyFile.read(
                URL(fileURLWithPath: file), preset: a.string("preset")!, backbone: a.string("backbone")!)
            if a.has("preset") || a.has("backbone") {
                let defaults = try presetDefaults(a)
                (c.preset, c.backbone) = (defaults.preset, defaults.backbone)
            }
        } else {
            c = try presetDefaults(a)
        }
        func given(_ name: String) -> Bool { !fromFile || a.has(name) }
        if let model = a.string("model") { c.model = URL(fileURLWithPath: model).standardizedFileURL.path }
        if given("seed") { c.seed = UInt64(try a.int("seed", in: 0...Int.max)!) }
        if let list = a.list("seeds") {
            let seeds = try list.map { text -> UInt64 in
                guard let seed = UInt64(text) else {
                    throw UsageError(
                        "option '--seeds' wants seeds (whole numbers >= 0) separated by commas, got '\(text)'",
                        command: a.command)
                }
                return seed
            }
            guard Set(seeds).count == seeds.count, !seeds.isEmpty else {
                throw UsageError(
                    "option '--seeds': a seed is repeated in '\(list.joined(separator: ","))'", command: a.command)
            }
            if a.has("seed") && c.seed != seeds[0] {
                throw UsageError("--seed and --seeds disagree: --seeds' first seed is the seed", command: a.command)
            }
            (c.seed, c.seeds) = (seeds[0], seeds.count > 1 ? seeds : nil)
        }
        if given("targets") { c.targets = a.list("targets")!.map(absoluteReference) }
        if given("held-out") { c.heldOut = a.list("held-out")!.map(absoluteReference) }
        if let v = try a.int("steps", in: 1...1_000_000) { c.training.steps = v }
        if let v = try a.int("batch-size", in: 1...4096) { c.training.batchSize = v }
        if let v = try a.double("lr", in: 1e-12...10) { c.training.learningRate = v }
        if let v = try a.int("train-examples", in: 1...10_000_000) { c.trainExamplesPerTarget = v }
        if let v = try a.int("eval-examples", in: 1...10_000_000) { c.evalExamplesPerBenchmark = v }
        if let v = try a.int("pretrain-steps", in: 0...10_000_000) { c.pretraining.steps = v }
        if let v = try a.double("pretrain-lr", in: 1e-12...10) { c.pretraining.learningRate = v }
        if let steps = try probeAt(a) { c.probeAt = steps }
        if given("skip-non-finite") { c.training.skipNonFiniteSteps = a.flag("skip-non-finite") }
        if let use = try ChatOptions.given(a) { c.chatTemplate = use }
        for pair in a.strings("eval-data") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw UsageError(
                    "option '--eval-data' wants NAME=FILE (NAME a target or held-out data file's name without the "
                        + "extension), got '\(pair)'", command: a.command)
            }
            var evalData = c.evalData ?? [:]
            evalData[parts[0]] = URL(fileURLWithPath: parts[1]).standardizedFileURL.path
            c.evalData = evalData
        }
        return c
    }

    /// `--probe-at`: training steps (from 1) of every stage, nil when not given.
    static func probeAt(_ a: ParsedArguments) throws -> [Int]? {
        try a.list("probe-at").map { list in
            try list.map { text -> Int in
                guard let step = Int(text), step >= 1 else {
                    throw UsageError(
                        "option '--probe-at' wants training steps (whole numbers >= 1) separated by commas, got '\(text)'",
                        command: a.command)
                }
                return step
            }
        }
    }

    /// `--probe-at`'s description, shared by every command that takes it.
    static let probeAtOption = OptionSpec.value(
        "probe-at", "LIST",
        "After these steps of every stage (e.g. 1,10,100,1000) and its last, log the label-free forgetting monitor: "
            + "KL of the next-token distribution from the base's on held-out prompts, and the counting bias.")

    static func presetDefaults(_ a: ParsedArguments) throws -> StudyConfig {
        do { return try StudyConfig.defaults(preset: a.string("preset")!, backbone: a.string("backbone")!) } catch {
            throw UsageError(
                "option '--preset' must be one of \(StudyConfig.presets.joined(separator: ", ")); got '\(a.string("preset")!)'",
                command: a.command)
        }
    }

    /// A data-file reference with its path made absolute (so the study.json a run writes reruns from anywhere);
    /// registered benchmark names are left alone.
    static func absoluteReference(_ reference: String) -> String {
        StudyFile.resolveReference(reference, in: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    }

    /// Applies `--strategies` (given, or without a study file) and `--option` entries to `config`.
    static func applyStrategies(_ a: ParsedArguments, to config: inout StudyConfig, registries: SkillTuneRegistries)
        throws
    {
        if !a.has("config") || a.has("strategies") {
            let names = a.list("strategies")!
            config.strategies = names == ["all"] ? registries.allStrategyNames : names
            // The study file's options for strategies this command does not run are set aside.
            config.strategyOptions = config.strategyOptions.filter { config.strategies.contains($0.key) }
        }
        for (name, options) in try strategyOptions(a) {
            config.strategyOptions[name, default: [:]].merge(options) { $1 }
        }
        for name in config.strategyOptions.keys where !config.strategies.contains(name) {
            throw UsageError(
                "--option names strategy '\(name)', which is not among --strategies (\(config.strategies.joined(separator: ",")))",
                command: a.command)
        }
    }

    /// `--option NAME.KEY=VALUE` entries, grouped by strategy.
    static func strategyOptions(_ a: ParsedArguments) throws -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        for entry in a.strings("option") {
            guard let eq = entry.firstIndex(of: "="), let dot = entry[..<eq].firstIndex(of: ".") else {
                throw UsageError(
                    "option '--option' expects STRATEGY.KEY=VALUE (e.g. lora.rank=8), got '\(entry)'",
                    command: a.command)
            }
            out[String(entry[..<dot]), default: [:]][String(entry[entry.index(after: dot)..<eq])] = String(
                entry[entry.index(after: eq)...])
        }
        return out
    }
}

extension SkillTuneCommands {
    static func compare(_ registries: SkillTuneRegistries) -> Command {
        Command(
            name: "compare",
            summary:
                "Run the study: tune every strategy on the target skills in sequence and compare learning and forgetting.",
            usage:
                "[--model DIR | --preset quick|small] [--config FILE] [--strategies LIST|all] [--targets LIST] [--held-out LIST] [--seed N] [--out DIR] [--resume] [options]",
            discussion: """
                Every strategy starts from the same base model (the checkpoint --model names, else the built-in backbone
                pretrained first, then cached), trains the target skills
                one stage after another with the same data, steps, schedule and seed, and after the base and every stage
                is evaluated on every target and held-out benchmark with greedy decoding. The counting-bias and
                layer-shift probes run at every stage. Writes DIR/results.json, DIR/results.csv and DIR/report.html,
                every evaluated example under DIR/samples/ (JSON Lines), and prints the learning / forgetting table.
                DIR/study.json holds the settings: '--config DIR/study.json' reruns the study. Each finished stage is checkpointed; --resume continues an
                interrupted run with identical results.

                EXAMPLES:
                  skilltune compare --strategies all
                  skilltune compare --strategies sa-proj,mlp-gate-up,llm --preset quick --out runs/quick
                  skilltune compare --strategies lora,components --option lora.rank=16 --option components.trainable='self_attn.(q|v)_proj'
                  skilltune compare --model qwen2-dir --targets arith.jsonl@numeric,colors.jsonl --held-out facts.jsonl --strategies sa-proj,lora
                  skilltune compare --config runs/quick/study.json --out runs/again
                  skilltune compare --preset quick --launcher slurm --partition cpu --time 02:00:00 --cpus-per-task 4 --out /shared/runs/quick

                On a SLURM cluster (--launcher slurm), DIR/plan.json lists the cells (one per strategy and seed) and
                DIR/slurm/*.sbatch the jobs: the base (pretrain or load, evaluate once), one array task per cell
                once it succeeded, and a merge once every cell ended ('skilltune merge DIR' writes the same result
                files). DIR must be on a filesystem every node shares. --resume submits only what has not finished.
                """,
            options: StudyOptions.specs + [
                .value(
                    "strategies", "LIST",
                    "Strategies to compare, or 'all' (\(registries.allStrategyNames.count) of the study).",
                    default: "all"),
                .value("option", "S.KEY=VALUE", "A strategy option, e.g. lora.rank=8 (repeatable).", repeatable: true),
                .value("out", "DIR", "Output directory.", default: "skilltune-results"),
                .flag("resume", "Continue the comparison already in --out (with --launcher: submit what is missing)."),
            ] + ClusterCommands.launchOptions
        ) { a in
            if a.has("launcher") {
                try ClusterCommands.launch(a, registries: registries, print: { Swift.print($0) })
                return
            }
            for name in ClusterCommands.launchOptions.map(\.name) where a.has(name) {
                throw UsageError("option '--\(name)' needs --launcher slurm", command: a.command)
            }
            var config = try StudyOptions.config(a)
            try StudyOptions.applyStrategies(a, to: &config, registries: registries)
            let out = URL(fileURLWithPath: a.string("out")!)
            let study = Study(config: config, registries: registries, outputDirectory: out, resume: a.flag("resume"))
            if a.flag("quiet") { study.log = { _ in } }
            InterruptHandler.install()
            let results = try study.run()
            print(ResultFiles.summaryTable(results), terminator: "")
            print(
                "wrote \(out.path)/results.json, results.csv, report.html in \(Progress.formatDuration(results.timings.totalSeconds))"
            )
        }
    }

    static func pretrain(_ registries: SkillTuneRegistries) -> Command {
        Command(
            name: "pretrain",
            summary: "Pretrain (or find cached) the base model and report its accuracy on every benchmark.",
            usage: "[--backbone NAME] [--preset NAME] [--seed N] [--out DIR] [--fresh]",
            discussion: """
                Trains every parameter on the held-out abilities and captions plus a small share of each target skill,
                so the base is strong on held-out benchmarks and low (but above chance) on targets. The result is
                cached by backbone, preset, seed and settings and reused by 'compare'. The default base (tiny-llava
                small, seed 0) ships with SkillTune and is used without pretraining; --fresh trains it again and
                says whether the new weights are byte-identical to the shipped ones. With --out, a copy of the
                checkpoint directory is written there too.
                """,
            options: StudyOptions.specs + [
                .value("out", "DIR", "Also copy the base checkpoint here."),
                .value(
                    "eval-every", "N",
                    "When pretraining here, print the accuracy on every benchmark every N steps (a learning curve)."),
                .flag(
                    "fresh",
                    "Pretrain even if the base is cached or shipped, and compare the result with the shipped base."),
            ]
        ) { a in
            let config = try StudyOptions.config(a)
            guard config.model == nil else {
                throw UsageError(
                    "--model names a checkpoint to study as it is; 'pretrain' makes the built-in base model (use --backbone/--preset)",
                    command: a.command)
            }
            let data = try StudyData(config: config, registries: registries)
            let every = try a.int("eval-every", in: 1...10_000_000) ?? 0
            let fresh = a.flag("fresh")
            let (model, directory, _) = try Pretrainer.baseModel(
                config: config, data: data, registries: registries, evaluateEvery: every,
                evaluate: { step, model in
                    let line = accuracyLines(model, data: data, config: config)
                    Terminal.error(
                        "step \(step): " + line.summary + "  ["
                            + line.rows.map { "\($0.0) \(Int($0.2.rounded()))" }.joined(separator: ", ") + "]")
                }, fresh: fresh
            ) { Terminal.error($0) }
            if fresh, let shipped = ShippedBase.directory(named: directory.lastPathComponent) {
                print(
                    ShippedBase.identical(shipped, directory)
                        ? "identical to the shipped base \(shipped.lastPathComponent), byte for byte"
                        : "differs from the shipped base \(shipped.path) (another arithmetic: see README)")
            }
            if let out = a.string("out") {
                let target = URL(fileURLWithPath: out)
                try? FileManager.default.removeItem(at: target)
                try FileManager.default.copyItem(at: directory, to: target)
                print("base model copied to \(target.path)")
            }
            print("base model: \(directory.path)")
            let result = accuracyLines(model, data: data, config: config)
            for (name, role, acc) in result.rows {
                print(
                    name.padding(toLength: 14, withPad: " ", startingAt: 0)
                        + role.padding(toLength: 10, withPad: " ", startingAt: 0) + String(format: "%6.1f", acc))
            }
            print(result.summary + " (\(config.evalExamplesPerBenchmark) eval examples each)")
        }
    }

    /// Accuracy of `model` on every benchmark of the study (name, role, percent), and a one-line summary of the
    /// held-out and target means.
    static func accuracyLines(_ model: any Backbone, data: StudyData, config: StudyConfig)
        -> (rows: [(String, String, Double)], summary: String)
    {
        var rows: [(String, String, Double)] = []
        for b in data.columns {
            let outcome = Evaluator.evaluate(
                model, on: b, examples: data.eval[b.name] ?? [], maxNewTokens: config.maxNewTokens)
            rows.append((b.name, config.targets.contains(b.name) ? "target" : "held-out", outcome.accuracy))
        }
        let held = rows.filter { $0.1 == "held-out" }.map(\.2)
        let targets = rows.filter { $0.1 == "target" }.map(\.2)
        let summary = String(
            format: "held-out mean %.1f, target mean %.1f",
            held.reduce(0, +) / Double(max(1, held.count)), targets.reduce(0, +) / Double(max(1, targets.count)))
        return (rows, summary)
    }
}

/// The command set of the `skilltune` tool.
public enum SkillTuneCommands {
    public static func all(_ registries: SkillTuneRegistries) -> [Command] {
        [
            compare(registries), ClusterCommands.cell(registries), ClusterCommands.merge(registries), run(registries),
            tune(registries), pretrain(registries), eval(registries),
            list(registries), show(registries),
            probeCountingBias(registries), probeLayerShift(registries),
        ] + ModelCommands.all(registries: registries)
            + [ChatTemplateCommand.command()]
            + [
                benchKernels(), EvalBenchmark.command(), benchNNOps(), TrainBenchmark.command(registries),
                FuzzCommand.command(),
            ]
    }
}
