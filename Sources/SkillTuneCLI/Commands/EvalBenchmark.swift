import Foundation
import HFCausalLM
import Host
import Kernel
import SkillSuite
import TinyLLaVA
import Transformer

/// `skilltune bench eval`: how fast models evaluate on this machine. Builds a 135M-class model from a config
/// with random weights (SmolLM2-135M's shape as a Qwen2 by default) and times a prefill forward pass and
/// greedy generation with the KV cache at a few batch sizes; then the same generation for the study's
/// built-in tiny-llava model.
///
/// `--generation-only` measures what `benchmarks/reference/hf_generate.py` measures with `transformers`' greedy
/// `generate`, for comparison: batch-1 prefill (the first new token from a prompt: one forward pass over the
/// prompt, the head on the last position, the argmax) and batch-1 decode per token, medians of the repeats.
public enum EvalBenchmark {
    /// The named configs `--config` takes besides a config.json path.
    public static let configs = ["qwen2-135m", "smollm2-135m", "qwen2-0.5b"] + imageConfigs

    /// The named configs with an image in the prompt (measured with `--generation-only` only).
    public static let imageConfigs = ["llava-onevision-0.5b", "qwen2.5-vl-3b"]

    /// Qwen2-0.5B's shape (24 layers, hidden 896, 14 heads / 2 KV heads, SwiGLU 4864, vocabulary 151936, q/k/v
    /// biases, tied embeddings, rope_theta 1e6): for speed measurements with random weights.
    public static let qwen2_05B = HFModelConfig(
        modelType: "qwen2",
        decoder: DecoderConfig(
            vocabularySize: 151_936, hiddenSize: 896, intermediateSize: 4864, layers: 24, heads: 14,
            kvHeads: 2, ropeTheta: 1_000_000, rmsNormEps: 1e-6, attentionBias: true,
            tieWordEmbeddings: true, maxPositions: 32_768))

    public struct Options {
        /// "qwen2-135m" (SmolLM2-135M's shape with Qwen2's q/k/v biases), "smollm2-135m" or a config.json path.
        public var config = "qwen2-135m"
        /// The tiny-llava preset also measured, or nil for none.
        public var tinyLLaVAPreset: String? = "small"
        public var promptTokens = 128
        /// Prompt length for the generation runs.
        public var generationPromptTokens = 16
        public var newTokens = 32
        public var batchSizes = [1, 8]
        public var repeats = 3
        /// Also save the model to a temporary directory and time loading it back.
        public var timeLoading = false
        /// Kernel threads (nil: `Parallel.threads` as it is, i.e. SKILLTUNE_THREADS or the core count).
        public var threads: Int?
        public init() {}
    }

    /// Batch-1 generation speed, as `benchmarks/reference/hf_generate.py` measures it.
    public struct GenerationResult: Sendable {
        public var promptTokens: Int
        public var newTokens: Int
        public var threads: Int
        /// Median time to the first new token (prefill), milliseconds, and the fastest.
        public var prefillMs: Double
        public var bestPrefillMs: Double
        /// (median time for 1 + newTokens tokens - median prefill) / newTokens, milliseconds, and from the fastest runs.
        public var decodeMsPerToken: Double
        public var bestDecodeMsPerToken: Double
        /// The same difference in process CPU time (all threads), milliseconds.
        public var cpuDecodeMsPerToken: Double
        public var parameters: Int
        public var peakRssMb: Double

        /// One JSON object with hf_generate.py's keys, the GEMM microkernel this process chose, and how its
        /// batch-1 products read the weights (`Gemm.decodeRowOrders`).
        public var json: String {
            String(
                format: "{\"prefill_ms\":%.3f,\"prefill_tokens_per_s\":%.1f,\"decode_ms_per_token\":%.3f,"
                    + "\"decode_tokens_per_s\":%.2f,\"threads\":%d,\"prompt_tokens\":%d,\"new_tokens\":%d,"
                    + "\"best_prefill_ms\":%.3f,\"best_decode_ms_per_token\":%.3f,\"peak_rss_mb\":%.1f,"
                    + "\"parameters\":%ld,\"cpu_decode_ms_per_token\":%.3f,\"microkernel\":%@,"
                    + "\"decode_row_orders\":%@}",
                prefillMs, Double(promptTokens) / prefillMs * 1e3, decodeMsPerToken, 1e3 / decodeMsPerToken, threads,
                promptTokens, newTokens, bestPrefillMs, bestDecodeMsPerToken, peakRssMb, parameters,
                cpuDecodeMsPerToken, JSONString.literal(Gemm.microkernelName),
                JSONString.literal(Gemm.decodeRowOrders))
        }
    }

    /// The model of `options.config` with random weights (seed 1), in evaluation mode.
    static func makeModel(_ config: String) throws -> HFCausalLM {
        let model: HFCausalLM
        switch config {
        case "qwen2-135m":
            model = try HFCausalLM.create(
                config: HFModelConfig(modelType: "qwen2", decoder: HFModelConfig.smolLM2_135M.decoder), seed: 1)
        case "qwen2-0.5b": model = try HFCausalLM.create(config: qwen2_05B, seed: 1)
        default: model = try HFCausalLM.create(preset: config, seed: 1)
        }
        model.setTraining(false)
        return model
    }

    /// Batch-1 prefill and decode of `options.config` (prompt `promptTokens` random ids, `newTokens` new ones).
    /// `llava-onevision-0.5b` and `qwen2.5-vl-3b`: the prompt is one image (its placeholder expanded to its
    /// features) then the random ids, and prefill includes the vision tower; `promptTokens` counts every position.
    public static func generation(_ options: Options) throws -> GenerationResult {
        let previousThreads = Parallel.threads
        if let threads = options.threads { Parallel.threads = threads }
        defer { Parallel.threads = previousThreads }
        if imageConfigs.contains(options.config) { return try imageGeneration(options) }
        let model = try makeModel(options.config)
        let language = model.language
        let d = language.config.hiddenSize
        var random = RandomGenerator(seed: 7)
        let ids = (0..<options.promptTokens).map { _ in Int32(random.int(below: language.config.vocabularySize)) }
        let prompt = Autograd.withNoGrad { language.embed(ids, batchSize: 1).reshaped([ids.count, d]) }
        func run(_ n: Int) -> (wall: Double, cpu: Double) {
            let start = DispatchTime.now().uptimeNanoseconds
            let cpu = TrainBenchmark.processCPUSeconds()
            let out = language.generateGreedy([prompt], maxNewTokens: n, endOfSequence: [], batchSize: 1)
            precondition(out[0].count == n, "bench eval: generated \(out[0].count) tokens, expected \(n)")
            return (seconds(since: start), TrainBenchmark.processCPUSeconds() - cpu)
        }
        _ = run(1)
        let prefill = (0..<max(1, options.repeats)).map { _ in run(1) }
        _ = run(1 + options.newTokens)
        let full = (0..<max(1, options.repeats)).map { _ in run(1 + options.newTokens) }
        let median = { (v: [Double]) in TrainBenchmark.medianOf(v) }
        let prefillS = median(prefill.map(\.wall))
        let m = Double(options.newTokens)
        return GenerationResult(
            promptTokens: options.promptTokens, newTokens: options.newTokens, threads: Parallel.threads,
            prefillMs: prefillS * 1e3, bestPrefillMs: prefill.map(\.wall).min()! * 1e3,
            decodeMsPerToken: (median(full.map(\.wall)) - prefillS) / m * 1e3,
            bestDecodeMsPerToken: (full.map(\.wall).min()! - prefill.map(\.wall).min()!) / m * 1e3,
            cpuDecodeMsPerToken: (median(full.map(\.cpu)) - median(prefill.map(\.cpu))) / m * 1e3,
            parameters: model.parameterCounts.total, peakRssMb: TrainBenchmark.peakResidentMegabytes())
    }

    /// The image model of an `imageConfigs` name with random weights (seed 1), in evaluation mode, and the side
    /// of the square image its benchmark prompt holds: LLaVA-OneVision-0.5B's shape with a 384x384 image (one
    /// tile: 1485 features), Qwen2.5-VL-3B's with a 448x448 one (1024 patches merged into 256 features).
    static func makeImageModel(_ config: String) throws -> (model: any ImagePrompting, side: Int) {
        let model: any ImagePrompting
        let side: Int
        switch config {
        case "llava-onevision-0.5b":
            let (config, preprocessor) = try HFLLaVA.oneVision05B()
            model = try HFLLaVA.create(config: config, preprocessor: preprocessor, seed: 1)
            side = 384
        case "qwen2.5-vl-3b":
            let (config, preprocessor) = try HFQwen2VL.qwen25VL3B()
            model = try HFQwen2VL.create(config: config, preprocessor: preprocessor, seed: 1)
            side = 448
        default:
            throw UsageError(
                "'\(config)' is not one of \(imageConfigs.joined(separator: ", "))", command: "bench eval")
        }
        model.setTraining(false)
        return (model, side)
    }

    /// `generation` for an image model of `imageConfigs` with one square image (random pixels, seed 7) before
    /// the random text ids. A prefill here takes up to minutes, so each run is timed token by token instead of as
    /// the difference of two runs: prefill = the call to its first new token (vision tower, projector or merger,
    /// the prompt's forward pass), decode = the time between the first and the last new token / (newTokens).
    /// Medians over `repeats` runs after one warm-up run.
    static func imageGeneration(_ options: Options) throws -> GenerationResult {
        let (model, side) = try makeImageModel(options.config)
        var random = RandomGenerator(seed: 7)
        let image = Image(
            width: side, height: side, pixels: (0..<side * side * 3).map { _ in UInt8(random.int(below: 256)) })
        let text = (0..<options.promptTokens).map { _ in Int32(random.int(below: 151_000)) }
        let ids = try model.expandImagePlaceholders([model.imagePlaceholderID] + text, images: [image])
        let request = GenerationRequest(tokens: ids, images: [image])
        struct Run { var prefill: Double, decode: Double, cpuDecode: Double }
        func run() -> Run {
            let start = DispatchTime.now().uptimeNanoseconds
            var first = (wall: 0.0, cpu: 0.0)
            var last = (wall: 0.0, cpu: 0.0)
            var steps = 0
            _ = model.generate([request], maxNewTokens: 1 + options.newTokens) { _, _ in
                let now = (wall: seconds(since: start), cpu: TrainBenchmark.processCPUSeconds())
                if steps == 0 { first = now }
                last = now
                steps += 1
            }
            let decoded = Double(max(steps - 1, 1))
            return Run(
                prefill: first.wall, decode: (last.wall - first.wall) / decoded,
                cpuDecode: (last.cpu - first.cpu) / decoded)
        }
        _ = run()
        let runs = (0..<max(1, options.repeats)).map { _ in run() }
        let median = { (v: [Double]) in TrainBenchmark.medianOf(v) }
        return GenerationResult(
            promptTokens: ids.count, newTokens: options.newTokens, threads: Parallel.threads,
            prefillMs: median(runs.map(\.prefill)) * 1e3, bestPrefillMs: runs.map(\.prefill).min()! * 1e3,
            decodeMsPerToken: median(runs.map(\.decode)) * 1e3, bestDecodeMsPerToken: runs.map(\.decode).min()! * 1e3,
            cpuDecodeMsPerToken: median(runs.map(\.cpuDecode)) * 1e3,
            parameters: model.parameterCounts.total, peakRssMb: TrainBenchmark.peakResidentMegabytes())
    }

    /// Runs the measurements and returns the report, one line per measurement.
    public static func report(_ options: Options) throws -> String {
        let previousThreads = Parallel.threads
        if let threads = options.threads { Parallel.threads = threads }
        defer { Parallel.threads = previousThreads }
        let started = DispatchTime.now().uptimeNanoseconds
        let model = try makeModel(options.config)
        let createSeconds = seconds(since: started)
        let d = model.configuration.decoder
        let parameters = model.parameterCounts.total
        var lines = [
            String(
                format: "eval benchmark: %@ (%@, %.1fM parameters, random weights, made in %.1f s), %d threads",
                options.config, model.family, Double(parameters) / 1e6, createSeconds, Parallel.threads)
        ]
        lines.append(
            "best of \(options.repeats) after a warm-up run; build with -c release -Xswiftc -target-cpu -Xswiftc native"
        )
        if options.timeLoading {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "skilltune-eval-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            var start = DispatchTime.now().uptimeNanoseconds
            try model.save(to: directory)
            let saveSeconds = seconds(since: start)
            start = DispatchTime.now().uptimeNanoseconds
            _ = try HFCausalLM.load(directory: directory)
            lines.append(
                String(
                    format: "checkpoint (F32 safetensors, %.0f MB): saved in %.2f s, loaded in %.2f s",
                    Double(parameters) * 4 / 1e6, saveSeconds, seconds(since: start)))
        }
        var random = RandomGenerator(seed: 7)
        func randomIDs(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32(random.int(below: d.vocabularySize)) } }

        // Prefill: one forward pass over the prompt, logits at every position (as a scoring pass computes them).
        let prompt = randomIDs(options.promptTokens)
        let batch = Batch(
            tokens: prompt, targets: prompt, lengths: [prompt.count], batchSize: 1,
            sequenceLength: prompt.count)
        let prefill = best(options.repeats) { _ = Autograd.withNoGrad { model.forward(batch) } }
        lines.append(
            String(
                format: "prefill %d tokens, batch 1:%@ %8.1f ms  %8.1f tokens/s", options.promptTokens,
                String(repeating: " ", count: 12), prefill * 1e3, Double(options.promptTokens) / prefill))

        lines += generationLines(model.language, options, random: &random)

        if let preset = options.tinyLLaVAPreset {
            let start = DispatchTime.now().uptimeNanoseconds
            let tiny = try TinyLLaVA(preset: preset, vocabulary: SkillSuite.vocabulary, seed: 1)
            tiny.setTraining(false)
            lines.append(
                String(
                    format: "tiny-llava:%@ (%.2fM parameters, random weights, made in %.2f s), text prompts",
                    preset, Double(tiny.parameterCounts.total) / 1e6, seconds(since: start)))
            lines += generationLines(tiny, options, random: &random)
        }
        return lines.joined(separator: "\n")
    }

    /// Greedy generation at each batch size, with no end-of-sequence ids, so every request makes exactly
    /// `newTokens` tokens: total tokens/s, and the decode step alone (the first token's time taken off).
    static func generationLines(
        _ language: CausalLanguageModel, _ options: Options,
        random: inout RandomGenerator
    ) -> [String] {
        let d = language.config.hiddenSize
        let vocab = language.config.vocabularySize
        var lines: [String] = []
        for b in options.batchSizes {
            let prompts = Autograd.withNoGrad {
                (0..<b).map { _ in
                    language.embed(
                        (0..<options.generationPromptTokens).map { _ in Int32(random.int(below: vocab)) },
                        batchSize: 1
                    ).reshaped([options.generationPromptTokens, d])
                }
            }
            func run(_ n: Int) {
                _ = language.generateGreedy(prompts, maxNewTokens: n, endOfSequence: [], batchSize: b)
            }
            let first = best(options.repeats) { run(1) }
            let full = best(options.repeats) { run(options.newTokens) }
            let decode = (full - first) / Double(max(options.newTokens - 1, 1))
            lines.append(
                String(
                    format: "generate batch %d, prompt %d + %d new: %8.1f ms  %8.1f tokens/s "
                        + "(decode step %.2f ms = %.1f tokens/s)",
                    b, options.generationPromptTokens, options.newTokens, full * 1e3,
                    Double(b * options.newTokens) / full, decode * 1e3, Double(b) / decode))
        }
        return lines
    }

    /// The fastest of `repeats` timed runs, after one untimed warm-up run, in seconds.
    static func best(_ repeats: Int, _ body: () -> Void) -> Double {
        body()
        var fastest = Double.infinity
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            fastest = min(fastest, seconds(since: start))
        }
        return fastest
    }

    static func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    /// The `bench eval` command.
    public static func command(output: @escaping (String) -> Void = { print($0) }) -> Command {
        Command(
            name: "bench eval",
            summary: "Time greedy generation (batch and single) of a 135M-class Qwen2 and of tiny-llava.",
            usage:
                "[--config NAME|FILE] [--tiny-llava PRESET|none] [--prompt-tokens N] [--new-tokens N] [--batch-sizes LIST] [--repeats N] [--threads N] [--load] [--generation-only [--json]]",
            discussion: """
                Builds the models with random weights (nothing is downloaded) and prints tokens/s for a prefill
                forward pass and for greedy generation with the KV cache, then greedy generation of the built-in
                tiny-llava model. --threads (or SKILLTUNE_THREADS) sets the thread count.
                --generation-only measures batch-1 prefill (prompt -> first new token) and decode per token of
                --config only, medians of --repeats, as benchmarks/reference/hf_generate.py does with transformers
                (benchmarks/compare_generate.py runs both); --json prints one object with that script's keys.
                --config qwen2-0.5b is Qwen2-0.5B's shape (24 layers, 494M parameters, ~2 GB of float32);
                --config llava-onevision-0.5b (with --generation-only) is LLaVA-OneVision-0.5B's (SigLIP 1152 x 26
                layers at 384, Qwen2-0.5B) with one 384x384 image before the prompt, as
                benchmarks/reference/hf_llava_generate.py measures it with transformers;
                --config qwen2.5-vl-3b (with --generation-only) is Qwen2.5-VL-3B-Instruct's (vision tower 1280 x 32
                blocks, decoder 2048 x 36 layers, 3.75B parameters, ~15 GB of float32) with one 448x448 image
                (256 merged features) before the prompt, as benchmarks/reference/hf_qwen_vl_generate.py measures it.
                """,
            options: [
                .value(
                    "config", "NAME|FILE",
                    "qwen2-135m, smollm2-135m, qwen2-0.5b, llava-onevision-0.5b or qwen2.5-vl-3b (both "
                        + "--generation-only) or a Qwen2/Llama config.json.",
                    default: "qwen2-135m"),
                .value("tiny-llava", "PRESET", "tiny-llava preset to measure too (none: skip).", default: "small"),
                .value("prompt-tokens", "N", "Prefill length.", default: "128"),
                .value("new-tokens", "N", "Tokens generated per request.", default: "32"),
                .value("batch-sizes", "LIST", "Generation batch sizes.", default: "1,8"),
                .value("repeats", "N", "Timed runs per measurement (the best is shown).", default: "3"),
                .flag("load", "Also time saving the model and loading it back (writes a temporary checkpoint)."),
                .value("threads", "N", "Kernel threads (default: SKILLTUNE_THREADS or the core count).", default: nil),
                .flag("generation-only", "Only batch-1 prefill and decode of --config (compare with hf_generate.py)."),
                .flag("json", "With --generation-only: one JSON object."),
            ]
        ) { arguments in
            var options = Options()
            options.config = try arguments.required("config")
            let tiny = try arguments.required("tiny-llava")
            options.tinyLLaVAPreset = tiny == "none" ? nil : tiny
            options.promptTokens = try arguments.int("prompt-tokens", in: 1...100_000)!
            options.newTokens = try arguments.int("new-tokens", in: 2...100_000)!
            options.repeats = try arguments.int("repeats", in: 1...1000)!
            options.timeLoading = arguments.flag("load")
            options.threads = try arguments.int("threads", in: 1...1024)
            options.batchSizes = try (arguments.list("batch-sizes") ?? []).map { item in
                guard let b = Int(item), b >= 1 else {
                    throw UsageError(
                        "option '--batch-sizes': '\(item)' is not a batch size (whole number >= 1)",
                        command: arguments.command)
                }
                return b
            }
            if imageConfigs.contains(options.config) && !arguments.flag("generation-only") {
                throw UsageError(
                    "--config \(options.config) is measured with --generation-only", command: arguments.command)
            }
            if arguments.flag("generation-only") {
                let result = try generation(options)
                output(
                    arguments.flag("json")
                        ? result.json
                        : String(
                            format:
                                "bench eval: %@, %d threads: prefill %d tokens %.1f ms (%.1f tokens/s), decode %.2f ms/token "
                                + "(%.2f tokens/s, CPU %.2f ms), best %.1f / %.2f ms, peak RSS %.0f MB",
                            options.config, result.threads, result.promptTokens, result.prefillMs,
                            Double(result.promptTokens) / result.prefillMs * 1e3, result.decodeMsPerToken,
                            1e3 / result.decodeMsPerToken, result.cpuDecodeMsPerToken, result.bestPrefillMs,
                            result.bestDecodeMsPerToken, result.peakRssMb))
                return
            }
            output(try report(options))
        }
    }
}
