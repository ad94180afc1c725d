import Foundation
import Host

let benchNNOps = Command(
    name: "bench nn-ops", summary: "Time the fused neural-network ops at the reference training step's shapes.",
    discussion: "examples/reference/nn_ops_bench_torch.py times the PyTorch equivalents for comparison.",
    options: []
) { _ in print(NNOpsBenchmark.report()) }

let tool = CommandLineTool(
    name: "skilltune",
    summary: "SkillTune: teach transformer and multimodal models new skills without forgetting, and measure it.",
    commands: ModelCommands.all() + [EvalBenchmark.command(), benchNNOps])

exit(tool.run(Array(CommandLine.arguments.dropFirst())))
