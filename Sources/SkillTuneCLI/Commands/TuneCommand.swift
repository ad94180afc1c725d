import Foundation
import Host
import Kernel

/// `skilltune tune`: one tuning run on a checkpoint, then the tuned model written where other tools load it.
extension SkillTuneCommands {
    public static func tune(_ registries: SkillTuneRegistries) -> Command {
        Command(
            name: "tune",
            summary:
                "Tune a model on data files, one stage per file, and write the tuned model (checkpoint or PEFT adapter).",
            usage: "--model DIR --strategy NAME --data FILE [--data FILE ...] [--watch FILE ...] --out OUT [options]",
            discussion: """
                One stage per --data, in order, each STEPS steps of the strategy (cosine schedule with 3% warmup, AdamW,
                gradient clip 1). The accuracy of each data file's eval split (lines without a "split" field go to eval
                one in five, by a hash; --eval-data names an explicit eval file per --data instead) and of every --watch
                benchmark is measured before tuning and after each stage (greedy decoding) and printed as a table; --json
                prints {"settings", "stages" (per-step losses), "accuracy" (rows), "export"} instead. Data references are
                JSON Lines files (a scoring rule may follow after @: facts.jsonl@exact; default normalized) or registered
                benchmark names.

                OUT is written atomically (a temporary directory renamed at the end); an existing OUT is refused unless
                --force, which replaces it only once the new one is complete. What OUT holds:
                  - most strategies: a checkpoint in the input's format and layout: a Hugging Face model gives
                    config.json, model.safetensors (shards and model.safetensors.index.json past 5 GB) in the input's
                    dtype unless --dtype, the same tensor names (a tied head stays tied), tokenizer, chat-template and
                    generation files; tensors the strategy did not change are the input's bytes, bit for bit.
                    transformers' AutoModelForCausalLM.from_pretrained(OUT) loads it (a LLaVA, LLaVA-OneVision or Qwen2-VL
                    model: AutoModelForImageTextToText, in the input's key layout, with its processor files and
                    the vision layers it never runs copied unchanged). The built-in tiny-llava writes SkillTune's
                    own format.
                  - lora: a PEFT adapter directory (adapter_config.json, adapter_model.safetensors) for
                    PeftModel.from_pretrained(base, OUT); one adapter trains through every stage (lora.merge=false).
                    --merge writes the merged full model instead.
                  - moe: refused before training: its routers and expert copies have no place in a Qwen2/Llama
                    checkpoint (compare it with 'skilltune compare').

                EXAMPLE:
                  skilltune tune --model examples/data/tiny-qwen2 --strategy sa-proj \\
                    --data examples/data/parity.jsonl --data examples/data/sign.jsonl \\
                    --watch examples/data/facts.jsonl --steps 150 --lr 3e-3 --out tuned-qwen2
                """,
            options: [
                ModelCommands.modelOption,
                .value("strategy", "NAME", "The tuning strategy (see 'skilltune list')."),
                .value(
                    "data", "FILE",
                    "A data file (or benchmark name) to train on: one stage each, in order (repeatable).",
                    repeatable: true),
                .value(
                    "eval-data", "FILE",
                    "An explicit eval file for the --data of the same position (repeatable; one per --data).",
                    repeatable: true),
                .value(
                    "watch", "FILE",
                    "A data file (or benchmark name) only evaluated, to watch for forgetting (repeatable).",
                    repeatable: true),
                .value("steps", "N", "Optimizer steps per stage.", default: "100"),
                .value("lr", "X", "Peak learning rate.", default: "1e-4"),
                .value("batch-size", "N", "Examples per step.", default: "8"),
                .value("option", "S.KEY=VALUE", "A strategy option, e.g. lora.rank=16 (repeatable).", repeatable: true),
                .value("seed", "N", "Seed of the batch order and the strategy's randomness.", default: "0"),
                .value("threads", "N", "Threads for the kernels (default: SKILLTUNE_THREADS or all cores)."),
                .value("train-examples", "N", "At most N train examples per data file.", default: "10000"),
                .value("eval-examples", "N", "At most N eval examples per benchmark.", default: "200"),
                .value("max-new-tokens", "N", "Longest greedy answer at evaluation.", default: "16"),
                StudyOptions.probeAtOption,
                .value("out", "OUT", "Where to write the tuned model (a new directory)."),
                .value("dtype", "TYPE", "Weights' dtype in OUT: f32, bf16 or f16 (default: the input's)."),
                .value(
                    "max-shard-size", "SIZE", "Split the weights into shards past SIZE bytes (5GB, 200MB, 100KB...).",
                    default: "5GB"),
                .flag("merge", "For adapter strategies (lora): write the merged full model instead of the adapter."),
                .flag("force", "Replace OUT if it exists (only once the new one is complete)."),
                .flag("json", "Print the result as JSON."),
                .flag("quiet", "No progress or log lines on standard error (the result is still printed)."),
            ] + ChatOptions.specs
        ) { a in
            if let threads = try a.int("threads", in: 1...256) { Parallel.threads = threads }
            if a.flag("quiet") { Progress.isEnabled = false }
            let name = try a.required("strategy")
            let out = URL(fileURLWithPath: try a.required("out"))
            let data = a.strings("data")
            guard !data.isEmpty else {
                throw UsageError("missing required option '--data' (a data file to train on)", command: a.command)
            }
            var options: [String: String] = [:]
            for (strategy, values) in try StudyOptions.strategyOptions(a) {
                guard strategy == name else {
                    throw UsageError(
                        "--option names strategy '\(strategy)', but --strategy is '\(name)'", command: a.command)
                }
                options = values
            }
            var settings = TuningSettings(
                steps: try a.int("steps", in: 1...10_000_000)!, batchSize: try a.int("batch-size", in: 1...4096)!,
                learningRate: try a.double("lr", in: 1e-12...10)!, seed: UInt64(try a.int("seed", in: 0...Int.max)!),
                trainExamples: try a.int("train-examples", in: 1...100_000_000)!,
                evalExamples: try a.int("eval-examples", in: 1...100_000_000)!,
                maxNewTokens: try a.int("max-new-tokens", in: 1...100_000)!)
            settings.training.skipNonFiniteSteps = false
            settings.probeAt = try StudyOptions.probeAt(a)
            let export = CheckpointExportOptions(
                dtype: try dtypeOption(a), maxShardBytes: try byteSize(a, "max-shard-size"))
            let merge = a.flag("merge")
            let replacing = a.flag("force")
            if FileManager.default.fileExists(atPath: out.path) && !replacing {
                throw UsageError(
                    "\(out.path) already exists; choose another --out or pass --force to replace it", command: a.command
                )
            }
            let strategy = try registries.tuningStrategy(name, options: options)
            let stages = try registries.tuningData(data, evalData: a.strings("eval-data"))
            let watch = try a.strings("watch").map { try registries.benchmark(reference: $0, role: .heldOut) }
            let reference = try a.required("model")
            let model = try registries.backbone(reference: reference)
            try ChatOptions.use(a).apply(to: model)
            let modelName =
                FileManager.default.fileExists(atPath: reference)
                ? URL(fileURLWithPath: reference).standardizedFileURL.path : reference
            let run = try TuningRun(
                model: model, strategy: strategy, data: stages, watch: watch, settings: settings,
                modelReference: modelName)
            if a.flag("quiet") { run.log = { _ in } }
            try run.checkExportable(merge: merge, options: export)
            InterruptHandler.install()
            var result = try run.run()
            result.export = try run.export(to: out, options: export, merge: merge, replacing: replacing)
            if a.flag("json") {
                print(String(decoding: try ResultFiles.encoder.encode(result), as: UTF8.self))
            } else {
                print(result.table(), terminator: "")
                let what: String
                switch result.export!.format {
                case .adapter: what = "a PEFT adapter"
                case .checkpoint:
                    what = "a \(model.family) checkpoint" + (export.dtype.map { " (\($0.rawValue))" } ?? "")
                case .skilltune: what = "a SkillTune checkpoint"
                }
                print(
                    "wrote \(what) to \(out.path): \(result.export!.files.joined(separator: ", ")) in \(Progress.formatDuration(result.seconds))"
                )
            }
        }
    }

    /// `--dtype f32|bf16|f16` (also float32, bfloat16, float16, F32, BF16, F16).
    static func dtypeOption(_ a: ParsedArguments) throws -> SafeTensorsDType? {
        guard let text = a.string("dtype") else { return nil }
        switch text.lowercased() {
        case "f32", "float32", "fp32": return .float32
        case "bf16", "bfloat16": return .bfloat16
        case "f16", "float16", "fp16", "half": return .float16
        default: throw UsageError("option '--dtype' must be f32, bf16 or f16, got '\(text)'", command: a.command)
        }
    }

    /// A size such as 5GB, 200MB, 100KB or 12345 (bytes; decimal units, as Hugging Face's max_shard_size; KiB,
    /// MiB, GiB are binary).
    static func byteSize(_ a: ParsedArguments, _ option: String) throws -> Int {
        let text = try a.required(option).trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [
            ("KIB", 1024), ("MIB", 1_048_576), ("GIB", 1_073_741_824), ("KB", 1e3), ("MB", 1e6),
            ("GB", 1e9), ("TB", 1e12), ("B", 1),
        ]
        var number = text
        var scale = 1.0
        for (suffix, factor) in units where text.uppercased().hasSuffix(suffix) {
            number = String(text.dropLast(suffix.count)).trimmingCharacters(in: .whitespaces)
            scale = factor
            break
        }
        guard let value = Double(number), value.isFinite, value * scale >= 1, value * scale < 1e18 else {
            throw UsageError(
                "option '--\(option)' expects a size such as 5GB, 200MB or 100KB, got '\(text)'", command: a.command)
        }
        return Int(value * scale)
    }
}
