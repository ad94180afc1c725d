import Foundation
import HFCausalLM
import Kernel
import SkillSuite
import TinyLLaVA
import Transformer

/// `skilltune bench eval`: how fast models evaluate on this machine. Builds a 135M-class model from a config
/// with random weights (SmolLM2-135M's shape as a Qwen2 by default) and times a prefill forward pass and
/// greedy generation with the KV cache at a few batch sizes; then the same generation for the study's
/// built-in tiny-llava model.
public enum EvalBenchmark {
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
        public init() {}
    }

    /// Runs the measurements and returns the report, one line per measurement.
    public static func report(_ options: Options) throws -> String {
        let started = DispatchTime.now().uptimeNanoseconds
        let model = options.config == "qwen2-135m"
            ? try HFCausalLM.create(config: HFModelConfig(modelType: "qwen2", decoder: HFModelConfig.smolLM2_135M.decoder), seed: 1)
            : try HFCausalLM.factory.create(options.config, 1, []) as! HFCausalLM
        let createSeconds = seconds(since: started)
        model.setTraining(false)
        let d = model.configuration.decoder
        let parameters = model.parameterCounts.total
        var lines = [String(format: "eval benchmark: %@ (%@, %.1fM parameters, random weights, made in %.1f s), %d threads",
                            options.config, model.family, Double(parameters) / 1e6, createSeconds, Parallel.threads)]
        lines.append("best of \(options.repeats) after a warm-up run; build with -c release -Xswiftc -target-cpu -Xswiftc native")
        if options.timeLoading {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skilltune-eval-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            var start = DispatchTime.now().uptimeNanoseconds
            try model.save(to: directory)
            let saveSeconds = seconds(since: start)
            start = DispatchTime.now().uptimeNanoseconds
            _ = try HFCausalLM.load(directory: directory)
            lines.append(String(format: "checkpoint (F32 safetensors, %.0f MB): saved in %.2f s, loaded in %.2f s",
                                Double(parameters) * 4 / 1e6, saveSeconds, seconds(since: start)))
        }
        var random = RandomGenerator(seed: 7)
        func randomIDs(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32(random.int(below: d.vocabularySize)) } }

        // Prefill: one forward pass over the prompt, logits at every position (as a scoring pass computes them).
        let prompt = randomIDs(options.promptTokens)
        let batch = Batch(tokens: prompt, targets: prompt, lengths: [prompt.count], batchSize: 1,
                          sequenceLength: prompt.count)
        let prefill = best(options.repeats) { _ = Autograd.withNoGrad { model.forward(batch) } }
        lines.append(String(format: "prefill %d tokens, batch 1:%@ %8.1f ms  %8.1f tokens/s", options.promptTokens,
                            String(repeating: " ", count: 12), prefill * 1e3, Double(options.promptTokens) / prefill))

        lines += generationLines(model.language, options, random: &random)

        if let preset = options.tinyLLaVAPreset {
            let start = DispatchTime.now().uptimeNanoseconds
            let tiny = try TinyLLaVA(preset: preset, vocabulary: SkillSuite.vocabulary, seed: 1)
            tiny.setTraining(false)
            lines.append(String(format: "tiny-llava:%@ (%.2fM parameters, random weights, made in %.2f s), text prompts",
                                preset, Double(tiny.parameterCounts.total) / 1e6, seconds(since: start)))
            lines += generationLines(tiny, options, random: &random)
        }
        return lines.joined(separator: "\n")
    }

    /// Greedy generation at each batch size, with no end-of-sequence ids, so every request makes exactly
    /// `newTokens` tokens: total tokens/s, and the decode step alone (the first token's time taken off).
    static func generationLines(_ language: CausalLanguageModel, _ options: Options,
                                random: inout RandomGenerator) -> [String] {
        let d = language.config.hiddenSize, vocab = language.config.vocabularySize
        var lines: [String] = []
        for b in options.batchSizes {
            let prompts = Autograd.withNoGrad {
                (0..<b).map { _ in
                    language.embed((0..<options.generationPromptTokens).map { _ in Int32(random.int(below: vocab)) },
                                   batchSize: 1).reshaped([options.generationPromptTokens, d])
                }
            }
            func run(_ n: Int) { _ = language.generateGreedy(prompts, maxNewTokens: n, endOfSequence: [], batchSize: b) }
            let first = best(options.repeats) { run(1) }
            let full = best(options.repeats) { run(options.newTokens) }
            let decode = (full - first) / Double(max(options.newTokens - 1, 1))
            lines.append(String(format: "generate batch %d, prompt %d + %d new: %8.1f ms  %8.1f tokens/s "
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
            name: "bench eval", summary: "Time greedy generation (batch and single) of a 135M-class Qwen2 and of tiny-llava.",
            usage: "[--config NAME|FILE] [--tiny-llava PRESET|none] [--prompt-tokens N] [--new-tokens N] [--batch-sizes LIST] [--repeats N] [--load]",
            discussion: """
                Builds the models with random weights (nothing is downloaded) and prints tokens/s for a prefill
                forward pass and for greedy generation with the KV cache, then greedy generation of the built-in
                tiny-llava model. Set SKILLTUNE_THREADS to change the thread count.
                """,
            options: [
                .value("config", "NAME|FILE", "qwen2-135m, smollm2-135m or a Qwen2/Llama config.json.", default: "qwen2-135m"),
                .value("tiny-llava", "PRESET", "tiny-llava preset to measure too (none: skip).", default: "small"),
                .value("prompt-tokens", "N", "Prefill length.", default: "128"),
                .value("new-tokens", "N", "Tokens generated per request.", default: "32"),
                .value("batch-sizes", "LIST", "Generation batch sizes.", default: "1,8"),
                .value("repeats", "N", "Timed runs per measurement (the best is shown).", default: "3"),
                .flag("load", "Also time saving the model and loading it back (writes a temporary checkpoint)."),
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
            options.batchSizes = try (arguments.list("batch-sizes") ?? []).map { item in
                guard let b = Int(item), b >= 1 else {
                    throw UsageError("option '--batch-sizes': '\(item)' is not a batch size (whole number >= 1)",
                                     command: arguments.command)
                }
                return b
            }
            output(try report(options))
        }
    }
}
