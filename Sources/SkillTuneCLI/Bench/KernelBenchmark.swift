import Dispatch
import Foundation
import Host
import Kernel

/// `skilltune bench kernels`: throughput of the compute kernels on this machine and build.
///
/// Each measurement warms up once, then times several samples (each long enough to swamp timer noise)
/// and reports the median, since the machines are shared and noisy.
public enum KernelBenchmark {
    /// What to run.
    public struct Options: Sendable {
        /// A short smoke run: fewer, shorter samples and no 2048 product.
        public var quick: Bool
        /// Thread counts to measure each product with.
        public var threads: [Int]
        /// The products to time instead of the standard list (`gemmShapes`); nil for the standard list.
        public var shapes: [Shape]?
        /// Whether to run the sections after matmul (attention, AdamW).
        public var sections: Bool

        public init(quick: Bool = false, threads: [Int] = [1, 2], shapes: [Shape]? = nil, sections: Bool = true) {
            self.quick = quick
            self.threads = threads
            self.shapes = shapes
            self.sections = sections
        }
    }

    /// One product: C[m, n] = opA(A)[m, k] opB(B)[k, n].
    public struct Shape: Sendable, Equatable {
        public var m: Int, n: Int, k: Int
        public var transA: Bool, transB: Bool

        public init(m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false) {
            self.m = m
            self.n = n
            self.k = k
            self.transA = transA
            self.transB = transB
        }

        /// Parses `MxNxK`, optionally followed by `tA`, `tB` or `tAtB` (e.g. `1024x256x688tB`).
        public init?(parsing text: String) {
            var body = Substring(text.lowercased())
            var transA = false
            var transB = false
            if body.hasSuffix("tb") {
                transB = true
                body = body.dropLast(2)
            }
            if body.hasSuffix("ta") {
                transA = true
                body = body.dropLast(2)
            }
            let parts = body.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard parts.count == 3, let m = parts[0], let n = parts[1], let k = parts[2],
                (1...65536).contains(m), (1...65536).contains(n), (1...65536).contains(k)
            else { return nil }
            self.init(m: m, n: n, k: k, transA: transA, transB: transB)
        }
    }

    /// One matmul timing: C[m, n] = opA(A)[m, k] opB(B)[k, n].
    public struct GemmMeasurement: Codable, Sendable, Equatable {
        public var m: Int, n: Int, k: Int
        public var threads: Int
        /// Billions of float operations (2 m n k per product) per second of wall time, median of the samples.
        public var gflops: Double
        /// The same per second of CPU time used by the process (all threads), median of the samples. On a
        /// shared machine this shows the per-core speed when the wall time is inflated by waiting for a core.
        public var cpuGflops: Double
        public var transA: Bool, transB: Bool
        /// `gflops / (threads * peakGflops)`: the fraction of the FMA peak of the cores used (nil when no
        /// peak was measured).
        public var peakFraction: Double?
        /// `cpuGflops / peakGflops`: the same per CPU-second (the per-core fraction on a busy machine).
        public var cpuPeakFraction: Double?
    }

    /// Wall and process CPU time of one call.
    public struct Timing: Sendable {
        public var wallSeconds: Double
        public var cpuSeconds: Double
    }

    /// Every result. Encodes as `{"gemm": [...], "peakGflops": x, "microkernel": "...", "<section name>":
    /// [...], ...}`.
    public struct Result: Codable, Sendable {
        /// The register block and arithmetic `Gemm.sgemm` chose, e.g. "14x32 SIMD16 FMA".
        public var microkernel: String
        /// One core's peak in this build (`Gemm.peakGflops`: independent FMA chains on the widest vector,
        /// or multiplies and adds when the build has no FMA), GFLOP/s; 0 when not measured.
        public var peakGflops: Double
        public var gemm: [GemmMeasurement]
        /// Results of `additionalSections`, by section name.
        public var sections: [String: [Record]]

        private struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        /// JSON keys that are not sections.
        static let fixedKeys: Set<String> = ["gemm", "peakGflops", "microkernel"]

        public init(microkernel: String, peakGflops: Double = 0, gemm: [GemmMeasurement], sections: [String: [Record]])
        {
            self.microkernel = microkernel
            self.peakGflops = peakGflops
            self.gemm = gemm
            self.sections = sections
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(gemm, forKey: Key(stringValue: "gemm"))
            try container.encode(peakGflops, forKey: Key(stringValue: "peakGflops"))
            try container.encode(microkernel, forKey: Key(stringValue: "microkernel"))
            for (name, records) in sections { try container.encode(records, forKey: Key(stringValue: name)) }
        }

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            microkernel = try container.decodeIfPresent(String.self, forKey: Key(stringValue: "microkernel")) ?? ""
            peakGflops = try container.decodeIfPresent(Double.self, forKey: Key(stringValue: "peakGflops")) ?? 0
            gemm = try container.decode([GemmMeasurement].self, forKey: Key(stringValue: "gemm"))
            sections = [:]
            for key in container.allKeys where !Result.fixedKeys.contains(key.stringValue) {
                sections[key.stringValue] = try container.decode([Record].self, forKey: key)
            }
        }
    }

    /// One entry of an additional section: named numbers, encoded as a flat JSON object.
    public typealias Record = [String: Double]

    /// A benchmark section beyond matmul: its JSON key, a title for the text report, how to run it
    /// and how to print one record.
    public struct Section: Sendable {
        public var name: String
        public var title: String
        public var run: @Sendable (Options) -> [Record]
        public var describe: @Sendable (Record) -> String

        public init(
            name: String, title: String, run: @escaping @Sendable (Options) -> [Record],
            describe: @escaping @Sendable (Record) -> String
        ) {
            self.name = name
            self.title = title
            self.run = run
            self.describe = describe
        }
    }

    // MARK: EXTENSION POINT
    /// Sections run after the matmul one, in order: the packing copies of the matmul, causal attention at the
    /// reference training step's shape (batch 8, 128 tokens, 4 heads of 64) forward and forward+backward, and
    /// the fused AdamW update.
    public static let additionalSections: [Section] = [packingSection, attentionSection, adamWSection]

    /// The copies of opA and opB into micro-panels that every packed product makes (one thread, in the k blocks
    /// `Gemm.sgemm` packs them in, for the selected microkernel's width), at the anchor step's
    /// shapes: 1024 token rows by 256 and 688 features, each way round. GB/s of values packed, and as a
    /// fraction of a `memcpy` of the same bytes measured in the same run.
    static let packingSection = Section(
        name: "packing", title: "packing into micro-panels, 1 thread, GB/s (fraction of memcpy)",
        run: { options in
            let width = GemmTesting.microkernelWidth(GemmTesting.selectedMicrokernel)
            // (operand 0 = A / 1 = B, transposed, rows, columns) of opA [m, k] or opB [k, n].
            let cases: [(Int, Bool, Int, Int)] = [
                (0, false, 1024, 256), (0, false, 1024, 688), (0, true, 256, 1024), (0, true, 688, 1024),
                (1, false, 256, 256), (1, false, 1024, 688), (1, true, 256, 688), (1, true, 1024, 256),
            ]
            let capacity = 1024 * 1024
            let source = filledBuffer(count: capacity, seed: 3)
            let dest = UnsafeMutablePointer<Float>.allocate(capacity: capacity + 64 * 256)
            defer {
                source.deallocate()
                dest.deallocate()
            }
            var records: [Record] = []
            for (operand, transposed, rows, columns) in cases {
                let depths = GemmTesting.depthBlocks(k: operand == 0 ? columns : rows)
                let timing = medianTiming(quick: options.quick) {
                    for depth in depths {
                        if operand == 0 {
                            GemmTesting.packA(
                                transA: transposed, a: source, lda: transposed ? rows : columns, rows: 0..<rows,
                                depth: depth, into: dest)
                        } else {
                            GemmTesting.packB(
                                transB: transposed, b: source, ldb: transposed ? rows : columns, depth: depth,
                                columns: 0..<columns, width: width, into: dest)
                        }
                    }
                }
                let copy = medianTiming(quick: options.quick) { dest.update(from: source, count: rows * columns) }
                let bytes = Double(rows * columns * 4)
                records.append([
                    "operand": Double(operand), "transposed": transposed ? 1 : 0, "rows": Double(rows),
                    "columns": Double(columns), "gbPerSecond": bytes / timing.wallSeconds / 1e9,
                    "memcpyGbPerSecond": bytes / copy.wallSeconds / 1e9,
                ])
            }
            return records
        },
        describe: { r in
            let name = (r["operand"] == 0 ? "opA" : "opB") + (r["transposed"] == 1 ? " transposed" : "")
            let gb = r["gbPerSecond"] ?? 0
            let copy = r["memcpyGbPerSecond"] ?? 0
            return String(
                format: "%@ %d x %d: %.1f GB/s (%.0f%% of memcpy %.1f)", name, Int(r["rows"] ?? 0),
                Int(r["columns"] ?? 0), gb, copy > 0 ? gb / copy * 100 : 0, copy)
        })

    static let attentionSection = Section(
        name: "attention", title: "causal attention [8, 128, 4, 64], tokens/s",
        run: { options in
            var records: [Record] = []
            var g = RandomGenerator(seed: 1)
            func random(_ shape: [Int], grad: Bool) -> Tensor {
                let t = Tensor(zeros: shape, requiresGrad: grad)
                for i in 0..<t.count { t.data[i] = g.uniform(-1, 1) }
                return t
            }
            let shape = [8, 128, 4, 64]
            let tokens = Double(8 * 128)
            for threads in options.threads {
                Parallel.threads = threads
                let q = random(shape, grad: true)
                let k = random(shape, grad: true)
                let v = random(shape, grad: true)
                let forward = medianTiming(quick: options.quick) {
                    _ = Autograd.withNoGrad { attention(q, k, v, causal: true) }
                }
                let both = medianTiming(quick: options.quick) {
                    attention(q, k, v, causal: true).sum().backward()
                    q.grad = nil
                    k.grad = nil
                    v.grad = nil
                }
                records.append([
                    "threads": Double(threads), "forwardTokensPerSecond": tokens / forward.wallSeconds,
                    "forwardBackwardTokensPerSecond": tokens / both.wallSeconds,
                ])
            }
            Parallel.threads = options.threads.max() ?? Parallel.threads
            return records
        },
        describe: { r in
            String(
                format: "%d thread(s): forward %.0f tokens/s, forward+backward %.0f tokens/s",
                Int(r["threads"] ?? 0), r["forwardTokensPerSecond"] ?? 0, r["forwardBackwardTokensPerSecond"] ?? 0)
        })

    static let adamWSection = Section(
        name: "adamw", title: "AdamW update, 4M parameters, parameters/s",
        run: { options in
            var records: [Record] = []
            let count = options.quick ? 1 << 20 : 1 << 22
            for threads in options.threads {
                Parallel.threads = threads
                let p = Tensor(filled: 0.5, shape: [count], requiresGrad: true)
                let optimizer = AdamW(parameters: [("p", p)], weightDecay: 0.01)
                p.grad = Tensor(filled: 0.01, shape: [count])  // step reads the gradient and leaves it in place
                let timing = medianTiming(quick: options.quick) { optimizer.step(learningRate: 1e-3) }
                records.append(["threads": Double(threads), "parametersPerSecond": Double(count) / timing.wallSeconds])
            }
            Parallel.threads = options.threads.max() ?? Parallel.threads
            return records
        },
        describe: { r in
            String(
                format: "%d thread(s): %.0f M parameters/s", Int(r["threads"] ?? 0),
                (r["parametersPerSecond"] ?? 0) / 1e6)
        })

    /// The matmul shapes measured: squares, the transformer shapes (1024 token rows; d_model 256, SwiGLU
    /// hidden 688: 1024 x {256, 512, 688} x {256, 688}; Qwen2-0.5B widths: k 896 with n 896, 128 (a KV
    /// projection) and 4864 (SwiGLU), and k 4864 with n 896; the widest are left out of `quick`), then
    /// transposed variants. `benchmarks/reference/numpy_sgemm.py` measures the same list.
    static func gemmShapes(quick: Bool) -> [(m: Int, n: Int, k: Int, transA: Bool, transB: Bool)] {
        var shapes: [(m: Int, n: Int, k: Int, transA: Bool, transB: Bool)] = []
        for size in quick ? [256, 512, 1024] : [256, 512, 1024, 2048] {
            shapes.append((size, size, size, false, false))
        }
        for (m, n, k) in [
            (1024, 256, 688), (1024, 688, 256), (1024, 256, 256), (1024, 512, 256), (1024, 512, 688),
            (1024, 688, 688), (1024, 896, 896), (1024, 128, 896),
        ] {
            shapes.append((m, n, k, false, false))
        }
        if !quick {
            shapes.append((1024, 4864, 896, false, false))
            shapes.append((1024, 896, 4864, false, false))
        }
        // The three transposed variants at one transformer shape (transB: linear forward; transA:
        // weight gradients), then the weight-gradient products as training runs them (dW = dY^T X).
        shapes.append((1024, 256, 688, true, false))
        shapes.append((1024, 256, 688, false, true))
        shapes.append((1024, 256, 688, true, true))
        shapes.append((256, 688, 1024, true, false))
        shapes.append((688, 256, 1024, true, false))
        return shapes
    }

    /// Runs every section and returns the results.
    public static func run(_ options: Options = Options()) -> Result {
        // The peak before and after the products (the larger: the physical limit, so fractions are not
        // flattered by a slow moment of the peak loop).
        var peak = Gemm.peakGflops(seconds: options.quick ? 0.005 : 0.02)
        var gemm: [GemmMeasurement] = []
        let shapes =
            options.shapes
            ?? gemmShapes(quick: options.quick).map {
                Shape(m: $0.m, n: $0.n, k: $0.k, transA: $0.transA, transB: $0.transB)
            }
        for shape in shapes {
            for threads in options.threads {
                gemm.append(
                    measureGemm(
                        m: shape.m, n: shape.n, k: shape.k, transA: shape.transA,
                        transB: shape.transB, threads: threads, quick: options.quick))
            }
        }
        peak = max(peak, Gemm.peakGflops(seconds: options.quick ? 0.005 : 0.02))
        for index in gemm.indices {
            gemm[index].peakFraction = fraction(gemm[index].gflops / (Double(gemm[index].threads) * peak))
            gemm[index].cpuPeakFraction = fraction(gemm[index].cpuGflops / peak)
        }
        var sections: [String: [Record]] = [:]
        for section in additionalSections where options.sections { sections[section.name] = section.run(options) }
        return Result(
            microkernel: Gemm.microkernelName, peakGflops: (peak * 10).rounded() / 10, gemm: gemm,
            sections: sections)
    }

    /// A fraction rounded to 3 digits.
    static func fraction(_ value: Double) -> Double {
        value.isFinite ? (value * 1000).rounded() / 1000 : 0
    }

    /// Times `Gemm.sgemm` on one shape.
    public static func measureGemm(
        m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
        threads: Int, quick: Bool = false
    ) -> GemmMeasurement {
        let a = filledBuffer(count: m * k, seed: 1)
        let b = filledBuffer(count: k * n, seed: 2)
        // Tensor storages, as in a model (large ones ask for huge pages, see `Storage`).
        let cStorage = Storage(count: m * n)
        let c = cStorage.pointer
        defer {
            a.deallocate()
            b.deallocate()
        }
        let timing = medianTiming(quick: quick) {
            Gemm.sgemm(
                transA: transA, transB: transB, m: m, n: n, k: k,
                a: a, lda: transA ? m : k, b: b, ldb: transB ? k : n, c: c, ldc: n, threads: threads)
        }
        let flops = 2 * Double(m * n * k)
        func rate(_ seconds: Double) -> Double { (flops / seconds / 1e9 * 10).rounded() / 10 }
        return GemmMeasurement(
            m: m, n: n, k: k, threads: threads, gflops: rate(timing.wallSeconds),
            cpuGflops: rate(timing.cpuSeconds), transA: transA, transB: transB)
    }

    /// The median wall and CPU time of one call of `body`: one warm-up call, then samples that each
    /// repeat `body` for at least a few milliseconds.
    public static func medianTiming(quick: Bool, _ body: () -> Void) -> Timing {
        func wall() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
        func cpu() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
        }
        let start = wall()
        body()
        let once = max(wall() - start, 1e-7)
        let sampleSeconds = quick ? 0.01 : 0.05
        let repeats = max(1, Int(sampleSeconds / once))
        var wallSamples: [Double] = []
        var cpuSamples: [Double] = []
        for _ in 0..<(quick ? 3 : 7) {
            let wallStart = wall()
            let cpuStart = cpu()
            for _ in 0..<repeats { body() }
            cpuSamples.append((cpu() - cpuStart) / Double(repeats))
            wallSamples.append((wall() - wallStart) / Double(repeats))
        }
        wallSamples.sort()
        cpuSamples.sort()
        return Timing(wallSeconds: wallSamples[wallSamples.count / 2], cpuSeconds: cpuSamples[cpuSamples.count / 2])
    }

    static func filledBuffer(count: Int, seed: UInt64) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
        Storage.adviseHugePages(UnsafeMutableRawPointer(p), bytes: count * MemoryLayout<Float>.stride)
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        for i in 0..<count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            p[i] = Float(state >> 40) / Float(1 << 24) - 0.5
        }
        return p
    }

    /// The human-readable report.
    public static func format(_ result: Result) -> String {
        var lines = [
            "matmul (Gemm.sgemm, microkernel \(result.microkernel)), GFLOP/s, median; "
                + "\"per CPU-s\": per second of CPU time used (the per-core speed on a busy machine)",
            String(
                format: "peak of one core in this build: %.1f GFLOP/s (%@ loop); \"of peak\": GFLOP/s per "
                    + "core used / peak, wall and per CPU-s", result.peakGflops,
                Gemm.microkernelName.hasSuffix("FMA") ? "FMA" : "multiply + add"),
        ]
        let threadCounts = Array(Set(result.gemm.map(\.threads))).sorted()
        var header = "  " + "shape (m x n x k)".padding(toLength: 30, withPad: " ", startingAt: 0)
        for t in threadCounts { header += "\(t) thread\(t == 1 ? "" : "s")".leftPadded(to: 11) }
        for t in threadCounts { header += "per CPU-s \(t)t".leftPadded(to: 15) }
        if result.peakGflops > 0 {
            for t in threadCounts { header += "of peak \(t)t".leftPadded(to: 12) }
            for t in threadCounts { header += "CPU-s \(t)t".leftPadded(to: 10) }
        }
        lines.append(header)
        var seen: [String] = []
        for entry in result.gemm {
            let label =
                "\(entry.m) x \(entry.n) x \(entry.k)" + (entry.transA ? " transA" : "")
                + (entry.transB ? " transB" : "")
            if seen.contains(label) { continue }
            seen.append(label)
            let matches = threadCounts.map { t in
                result.gemm.first {
                    $0.m == entry.m && $0.n == entry.n && $0.k == entry.k && $0.transA == entry.transA
                        && $0.transB == entry.transB && $0.threads == t
                }
            }
            var line = "  " + label.padding(toLength: 30, withPad: " ", startingAt: 0)
            for match in matches { line += (match.map { String(format: "%.1f", $0.gflops) } ?? "-").leftPadded(to: 11) }
            for match in matches {
                line += (match.map { String(format: "%.1f", $0.cpuGflops) } ?? "-").leftPadded(to: 15)
            }
            if result.peakGflops > 0 {
                func percent(_ value: Double?) -> String { value.map { String(format: "%.0f%%", $0 * 100) } ?? "-" }
                for match in matches { line += percent(match?.peakFraction).leftPadded(to: 12) }
                for match in matches { line += percent(match?.cpuPeakFraction).leftPadded(to: 10) }
            }
            lines.append(line)
        }
        for section in additionalSections {
            guard let records = result.sections[section.name] else { continue }
            lines.append("")
            lines.append(section.title)
            for record in records { lines.append("  " + section.describe(record)) }
        }
        return lines.joined(separator: "\n")
    }

    /// The JSON report (keys sorted, so output is stable).
    public static func json(_ result: Result) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(result), as: UTF8.self)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
