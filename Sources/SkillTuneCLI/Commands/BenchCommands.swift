import Foundation
import Host
import Kernel

extension SkillTuneCommands {
    static func benchKernels() -> Command {
        Command(
            name: "bench kernels", summary: "Measure matmul GFLOP/s (square and transformer shapes, 1 and 2 threads).",
            usage: "[--json] [--quick] [--threads LIST] [--shapes LIST]",
            discussion: """
                Warm-up, then the median of several runs per shape. Build with
                `swift build -c release -Xswiftc -target-cpu -Xswiftc native` for the real numbers.
                JSON form: {"gemm":[{"m":..,"n":..,"k":..,"threads":..,"gflops":..,"transA":..,"transB":..}], ...}
                Also "peakGflops" (one core's FMA peak in this build, from its own loop of independent FMAs),
                "microkernel", and per product "peakFraction" (gflops / (threads * peak)) and "cpuPeakFraction".
                """,
            options: [
                .flag("json", "Print JSON."), .flag("quick", "A fast smoke version (smaller shapes, fewer runs)."),
                .value("threads", "LIST", "Thread counts to measure.", default: "1,2"),
                .value(
                    "shapes", "LIST",
                    "Products to time instead of the standard list, e.g. 1024x1024x1024,1024x256x688tB "
                        + "(MxNxK, then tA/tB/tAtB for transposed operands); skips the packing, attention and AdamW sections."
                ),
            ]
        ) { a in
            let counts = a.list("threads")!.map { Int($0) }
            guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) >= 1 }) else {
                throw UsageError(
                    "option '--threads' wants positive whole numbers separated by commas, got '\(a.string("threads")!)'",
                    command: a.command)
            }
            var shapes: [KernelBenchmark.Shape]? = nil
            if let list = a.list("shapes") {
                shapes = try list.map { text in
                    guard let shape = KernelBenchmark.Shape(parsing: text) else {
                        throw UsageError(
                            "option '--shapes' wants MxNxK products (each 1 to 65536, optionally followed by tA, tB "
                                + "or tAtB) separated by commas, got '\(text)'", command: a.command)
                    }
                    return shape
                }
            }
            let result = KernelBenchmark.run(
                KernelBenchmark.Options(
                    quick: a.flag("quick"), threads: counts.map { $0! }, shapes: shapes, sections: shapes == nil))
            print(a.flag("json") ? try KernelBenchmark.json(result) : KernelBenchmark.format(result))
        }
    }

    static func benchNNOps() -> Command {
        Command(
            name: "bench nn-ops",
            summary:
                "Time the fused NN ops (norms, rotary, attention, softmax, losses) at the reference step's shapes.",
            options: []
        ) { _ in print(NNOpsBenchmark.report()) }
    }
}
