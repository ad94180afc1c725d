import Foundation
import Host

let registries = SkillTuneRegistries.builtIn()
var commands = SkillTuneCommands.all(registries)
commands.append(Command(name: "bench nn-ops", summary: "Time the fused NN ops at the reference step's shapes.", options: []) { _ in
    print(NNOpsBenchmark.report())
})
let tool = CommandLineTool(
    name: "skilltune",
    summary: "SkillTune: teach models new skills without forgetting, and measure which tuning recipe does it best.",
    commands: commands)
exit(tool.run(Array(CommandLine.arguments.dropFirst())))
