import Foundation
import Host

let registries = SkillTuneRegistries.builtIn()
let commands = SkillTuneCommands.all(registries)
let tool = CommandLineTool(
    name: "skilltune",
    summary: "SkillTune: teach models new skills without forgetting, and measure which tuning recipe does it best.",
    commands: commands)
exit(tool.run(Array(CommandLine.arguments.dropFirst())))
