import Foundation
import Host
import SkillTuneCLI

let registries = SkillTuneRegistries.builtIn()
let tool = CommandLineTool(
    name: "skilltune",
    summary:
        "SkillTune: teach transformer and multimodal models new skills without forgetting, and measure which tuning recipe does it best.",
    commands: SkillTuneCommands.all(registries))
exit(tool.run(Array(CommandLine.arguments.dropFirst())))
