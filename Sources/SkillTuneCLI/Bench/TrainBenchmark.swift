import Dispatch
import Foundation
import HFCausalLM
import Host
import Kernel
import Transformer

/// `skilltune bench train`: the speed of one real training step of a small Llama-style decoder, for comparison
/// with PyTorch (`benchmarks/reference/torch_step.py` builds the same model and step).
///
/// The model is a text-only `HFCausalLM` (model_type llama: RMSNorm, RoPE, SwiGLU, untied head, no biases) with
/// random N(0, 0.02) weights; the data are random token ids with a next-token target at every position. The step
/// is the study's own: `StageTrainer.run` with the strategy made by the registry (so `lora`, `sa-proj`... work as
/// in a study), i.e. `prepare`, then per step forward, cross-entropy, backward, gradient clipping at 1 and AdamW.
/// Step times are the gaps between consecutive steps' completion callbacks; the report gives the median of the
/// timed steps after the warm-up ones, and the process's peak resident memory.
public enum TrainBenchmark {
    /// What to measure.
    public struct Options: Sendable {
        public var hiddenSize = 256
        public var layers = 4
        public var heads = 4
        public var kvHeads = 4
        public var intermediateSize = 688
        public var vocabularySize = 512
        public var sequenceLength = 128
        public var batchSize = 8
        /// Threads for the kernels (`Parallel.threads`).
        public var threads = 2
        /// A registered strategy name ("full", "sa-proj", "lora"...).
        public var strategy = "full"
        /// Options of the strategy (as `--option` values give them).
        public var strategyOptions: [String: String] = [:]
        public var warmupSteps = 5
        public var timedSteps = 30
        /// Compute the head's logits for every position and then the cross-entropy (the path before
        /// `linearCrossEntropy`), to measure what fusing the head with the loss saves.
        public var unfusedHead = false
        public init() {}

        /// The named shapes `--shape` takes: `anchor` (the defaults above) and `qwen2-0.5b` (Qwen2-0.5B's widths:
        /// hidden 896, 14 heads / 2 KV heads, SwiGLU 4864, vocabulary 151936; 4 layers, sequence 256, batch 4).
        public static let shapes = ["anchor", "qwen2-0.5b"]

        /// The options of a named shape (nil for an unknown name); threads, strategy and steps keep their defaults.
        public static func shape(_ name: String) -> Options? {
            var o = Options()
            switch name {
            case "anchor": return o
            case "qwen2-0.5b":
                (o.hiddenSize, o.layers, o.heads, o.kvHeads, o.intermediateSize) = (896, 4, 14, 2, 4864)
                (o.vocabularySize, o.sequenceLength, o.batchSize) = (151_936, 256, 4)
                return o
            default: return nil
            }
        }
    }

    /// The measurement. The first three keys are a stable interface for scripts.
    public struct Result: Codable, Sendable {
        /// Median wall time of one step, milliseconds.
        public var msPerStep: Double
        /// batch * sequence / median step time.
        public var tokensPerS: Double
        public var threads: Int
        public var strategy: String
        /// Peak resident memory of the process so far (getrusage), megabytes.
        public var peakRssMb: Double
        public var trainableParams: Int
        /// The fastest timed step, milliseconds.
        public var bestMsPerStep: Double
        /// Median CPU time of a step, all threads together, milliseconds: on a busy machine this shows the
        /// work done when the wall time is inflated by waiting for a core.
        public var cpuMsPerStep: Double
        /// The matrix products (`Gemm.sgemm`) of one step, GFLOP (2 per multiply-add).
        public var gemmGflopPerStep: Double
        /// One core's FMA peak in this build (`Gemm.peakGflops`), GFLOP/s.
        public var peakGflops: Double
        /// The least time one step's matrix products could take on `threads` cores at that peak, milliseconds:
        /// a floor for the whole step (attention, norms and the optimizer come on top).
        public var gemmFloorMs: Double { gemmGflopPerStep / (Double(threads) * peakGflops) * 1e3 }

        enum CodingKeys: String, CodingKey {
            case msPerStep = "ms_per_step", tokensPerS = "tokens_per_s", threads, strategy
            case peakRssMb = "peak_rss_mb", trainableParams = "trainable_params", bestMsPerStep = "best_ms_per_step"
            case cpuMsPerStep = "cpu_ms_per_step", gemmGflopPerStep = "gemm_gflop_per_step"
            case peakGflops = "peak_gflops"
        }
    }

    /// The decoder config of `options`.
    public static func modelConfig(_ o: Options) -> HFModelConfig {
        HFModelConfig(
            modelType: "llama",
            decoder: DecoderConfig(
                vocabularySize: o.vocabularySize, hiddenSize: o.hiddenSize, intermediateSize: o.intermediateSize,
                layers: o.layers, heads: o.heads, kvHeads: o.kvHeads, attentionBias: false, tieWordEmbeddings: false,
                maxPositions: max(4096, o.sequenceLength)))
    }

    /// Builds the model, runs warm-up and timed steps, and measures.
    public static func run(_ o: Options, registries: SkillTuneRegistries) throws -> Result {
        let previousThreads = Parallel.threads
        Parallel.threads = o.threads
        defer { Parallel.threads = previousThreads }
        let model = try HFCausalLM.create(config: modelConfig(o), seed: 1)
        let strategy = try registries.strategy(o.strategy, options: o.strategyOptions)
        var random = RandomGenerator(seed: 2)
        let count = o.batchSize * o.sequenceLength
        let tokens = (0..<count).map { _ in Int32(random.next() % UInt64(o.vocabularySize)) }
        let targets = (0..<count).map { _ in Int32(random.next() % UInt64(o.vocabularySize)) }
        let batch = Batch(
            tokens: tokens, targets: targets, lengths: Array(repeating: o.sequenceLength, count: o.batchSize),
            batchSize: o.batchSize, sequenceLength: o.sequenceLength)
        let steps = o.warmupSteps + o.timedSteps
        let settings = TrainingSettings(steps: steps, batchSize: o.batchSize, learningRate: 1e-4)
        // At the end of every step: wall nanoseconds, process CPU seconds, multiply-adds of `sgemm` so far.
        var completed: [Double] = []
        var completedCPU: [Double] = []
        var completedWork: [Double] = []
        var trainable = 0
        let trained: any TuningStrategy = o.unfusedHead ? UnfusedHeadStrategy(strategy) : strategy
        _ = try StageTrainer.run(
            model: model, strategy: trained, stage: StageContext(index: 1, name: "bench", totalSteps: steps, seed: 1),
            settings: settings,
            batch: { step in
                if step == 0 { trainable = model.parameterCounts.trainable }
                return batch
            },
            onStep: { _, _, _ in
                completed.append(Double(DispatchTime.now().uptimeNanoseconds))
                completedCPU.append(processCPUSeconds())
                completedWork.append(Double(Gemm.multiplyAdds))
            })
        // Step i (from 0) took marks[i] - marks[i - 1]; the first warm-up step has no start mark.
        func timedSteps(_ marks: [Double]) -> [Double] {
            (max(1, o.warmupSteps)..<marks.count).map { marks[$0] - marks[$0 - 1] }
        }
        let times = timedSteps(completed).map { $0 / 1e6 }.sorted()
        precondition(!times.isEmpty, "bench train: no timed steps")
        let cpuTimes = timedSteps(completedCPU).map { $0 * 1e3 }
        let work = timedSteps(completedWork)
        let median = medianOf(times)
        return Result(
            msPerStep: median, tokensPerS: Double(count) / (median / 1e3), threads: o.threads,
            strategy: o.strategy, peakRssMb: peakResidentMegabytes(), trainableParams: trainable,
            bestMsPerStep: times[0], cpuMsPerStep: medianOf(cpuTimes), gemmGflopPerStep: 2 * medianOf(work) / 1e9,
            peakGflops: Gemm.peakGflops())
    }

    /// A strategy whose loss is the unfused `answerCrossEntropy` (logits of every position, then the loss).
    final class UnfusedHeadStrategy: TuningStrategy {
        let base: any TuningStrategy
        init(_ base: any TuningStrategy) { self.base = base }
        var name: String { base.name }
        var options: [StrategyOption] { base.options }
        func installModules(_ model: any Backbone, stage: StageContext) throws {
            try base.installModules(model, stage: stage)
        }
        func prepare(_ model: any Backbone, stage: StageContext) throws { try base.prepare(model, stage: stage) }
        func loss(_ model: any Backbone, batch: Batch, stage: StageContext) -> Tensor {
            answerCrossEntropy(model, batch, fuseHead: false)
        }
        func finish(_ model: any Backbone, stage: StageContext) throws { try base.finish(model, stage: stage) }
        func learningRateScale(forParameter name: String) -> Float { base.learningRateScale(forParameter: name) }
    }

    static func medianOf(_ values: [Double]) -> Double {
        let v = values.sorted()
        return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    }

    /// CPU time used by the process so far (all threads), seconds.
    static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// Peak resident set size of this process, in megabytes (ru_maxrss is in kilobytes on Linux, bytes on macOS).
    public static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        #if os(macOS)
            getrusage(RUSAGE_SELF, &usage)
            return Double(usage.ru_maxrss) / 1_048_576
        #else
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return Double(usage.ru_maxrss) / 1024
        #endif
    }

    /// One JSON object, keys in a fixed order: ms_per_step, tokens_per_s, threads first; then the GEMM
    /// microkernel this process chose (a run on the wrong block is twice as slow, so say which one ran), the
    /// step's matrix-product work, the core's FMA peak and the floor they give (`Result.gemmFloorMs`).
    public static func json(_ r: Result) -> String {
        String(
            format: "{\"ms_per_step\":%.3f,\"tokens_per_s\":%.1f,\"threads\":%d,\"strategy\":%@,"
                + "\"peak_rss_mb\":%.1f,\"trainable_params\":%d,\"best_ms_per_step\":%.3f,\"cpu_ms_per_step\":%.3f,"
                + "\"microkernel\":%@,\"gemm_gflop_per_step\":%.3f,\"peak_gflops\":%.1f,\"gemm_floor_ms\":%.3f}",
            r.msPerStep, r.tokensPerS, r.threads, JSONString.literal(r.strategy), r.peakRssMb, r.trainableParams,
            r.bestMsPerStep, r.cpuMsPerStep, JSONString.literal(Gemm.microkernelName), r.gemmGflopPerStep,
            r.peakGflops, r.gemmFloorMs)
    }

    /// One line for people.
    public static func format(_ r: Result, _ o: Options) -> String {
        String(
            format:
                "bench train: %@, d %d, %d layers, %d heads (%d kv), hidden %d, vocab %d, seq %d, batch %d, %d threads\n"
                + "%.2f ms/step (median of %d, best %.2f; CPU %.2f ms), %.0f tokens/s, peak RSS %.0f MB, %d trainable parameters, gemm %@\n"
                + "matrix products %.2f GFLOP per step: %.2f ms at this core's FMA peak of %.1f GFLOP/s on %d threads (the step's floor)",
            r.strategy, o.hiddenSize, o.layers, o.heads, o.kvHeads, o.intermediateSize, o.vocabularySize,
            o.sequenceLength, o.batchSize, r.threads, r.msPerStep, o.timedSteps, r.bestMsPerStep, r.cpuMsPerStep,
            r.tokensPerS,
            r.peakRssMb, r.trainableParams, Gemm.microkernelName, r.gemmGflopPerStep, r.gemmFloorMs, r.peakGflops,
            r.threads)
    }

    /// The `bench train` command.
    public static func command(_ registries: SkillTuneRegistries) -> Command {
        Command(
            name: "bench train", summary: "Time a training step of a small Llama-style decoder (compare with PyTorch).",
            usage:
                "[--shape anchor|qwen2-0.5b] [--hidden N] [--layers N] [--heads N] [--kv-heads N] [--intermediate N] [--vocab N] [--seq N] [--batch N] [--threads N] [--strategy NAME] [--json]",
            discussion: """
                A text-only decoder of the given size (RMSNorm, RoPE, SwiGLU, untied head, no biases) with random
                weights and random token ids, trained with the study's step (forward, next-token cross-entropy,
                backward, gradient clipping, AdamW) on the strategy's trainable set, made by the strategy registry.
                --shape qwen2-0.5b takes Qwen2-0.5B's widths (hidden 896, 14 heads / 2 KV heads, SwiGLU 4864,
                vocabulary 151936) with 4 layers, sequence 256, batch 4; explicit size options override the shape's.
                The loss fuses the head with the cross-entropy (linearCrossEntropy); --unfused-head computes every
                position's logits first, as before.
                5 warm-up steps, then the median of 30. JSON form (stable keys first):
                {"ms_per_step":..,"tokens_per_s":..,"threads":..,"strategy":..,"peak_rss_mb":..,"trainable_params":..}
                then "gemm_gflop_per_step" (every matrix product of a step), "peak_gflops" (one core's FMA peak in
                this build) and "gemm_floor_ms": the time those products would take on all threads at that peak, a
                floor for the step on this CPU (attention, norms and AdamW come on top).
                benchmarks/reference/torch_step.py times the same step in PyTorch; benchmarks/compare_torch.py runs
                both. Build with `swift build -c release -Xswiftc -target-cpu -Xswiftc native` for the real numbers.
                """,
            options: [
                .value("shape", "NAME", "Sizes to start from: anchor or qwen2-0.5b.", default: "anchor"),
                .value("hidden", "N", "d_model (anchor 256).", default: nil),
                .value("layers", "N", "Decoder layers (anchor 4).", default: nil),
                .value("heads", "N", "Attention heads (anchor 4).", default: nil),
                .value("kv-heads", "N", "Key/value heads (anchor 4).", default: nil),
                .value("intermediate", "N", "SwiGLU hidden size (anchor 688).", default: nil),
                .value("vocab", "N", "Vocabulary size, >= 259 (anchor 512).", default: nil),
                .value("seq", "N", "Sequence length (anchor 128).", default: nil),
                .value("batch", "N", "Batch size (anchor 8).", default: nil),
                .value("threads", "N", "Kernel threads.", default: "2"),
                .value(
                    "strategy", "NAME", "A registered strategy (full, sa-proj, mlp-gate-up, lora, ...).",
                    default: "full"),
                .value("option", "KEY=VALUE", "A strategy option, e.g. rank=16 (repeatable).", repeatable: true),
                .value("warmup", "N", "Untimed steps first.", default: "5"),
                .value("steps", "N", "Timed steps.", default: "30"),
                .flag("unfused-head", "Logits of every position, then the loss (the path before the fused head)."),
                .flag("json", "Print one JSON object."),
            ]
        ) { a in
            let shape = try a.required("shape")
            guard var o = Options.shape(shape) else {
                throw UsageError(
                    "option '--shape' must be one of \(Options.shapes.joined(separator: ", ")), got '\(shape)'",
                    command: a.command)
            }
            o.hiddenSize = try a.int("hidden", in: 2...65_536) ?? o.hiddenSize
            o.layers = try a.int("layers", in: 1...1024) ?? o.layers
            o.heads = try a.int("heads", in: 1...1024) ?? o.heads
            o.kvHeads = try a.int("kv-heads", in: 1...1024) ?? o.kvHeads
            o.intermediateSize = try a.int("intermediate", in: 1...1_000_000) ?? o.intermediateSize
            o.vocabularySize = try a.int("vocab", in: 259...10_000_000) ?? o.vocabularySize
            o.sequenceLength = try a.int("seq", in: 1...100_000) ?? o.sequenceLength
            o.batchSize = try a.int("batch", in: 1...100_000) ?? o.batchSize
            o.unfusedHead = a.flag("unfused-head")
            o.threads = try a.int("threads", in: 1...1024)!
            o.warmupSteps = try a.int("warmup", in: 1...100_000)!
            o.timedSteps = try a.int("steps", in: 1...100_000)!
            o.strategy = try a.required("strategy")
            for entry in a.strings("option") {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw UsageError("option '--option' wants KEY=VALUE, got '\(entry)'", command: a.command)
                }
                o.strategyOptions[parts[0]] = parts[1]
            }
            guard o.hiddenSize % o.heads == 0, (o.hiddenSize / o.heads) % 2 == 0, o.heads % o.kvHeads == 0 else {
                throw UsageError(
                    "--hidden must be a multiple of --heads with an even head size, and --heads a multiple of --kv-heads",
                    command: a.command)
            }
            let result = try run(o, registries: registries)
            if a.flag("json") {
                print(json(result))
            } else {
                print(format(result, o))
            }
        }
    }
}
