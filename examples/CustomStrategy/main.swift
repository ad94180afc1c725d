// A tuning strategy written outside the package, registered under a new name and compared against sa-proj
// through the same host as the built-in recipes.
//
//   swift run -c release CustomStrategy [--preset quick|small] [--out DIR]
import Foundation
import Host
import Kernel

/// Tunes only the MLPs of the top `layers` decoder layers: the layers closest to the output, where the study
/// finds the output distribution shift is written.
final class TopLayersMLP: TuningStrategy {
    let layers: Int
    var name: String { "top-mlp" }
    var options: [StrategyOption] {
        [
            StrategyOption(
                name: "layers", value: String(layers), defaultValue: "2", help: "how many top decoder layers train")
        ]
    }

    init(options: [String: String]) throws {
        for key in options.keys where key != "layers" {
            throw HostError("top-mlp: unknown option '\(key)'; options: layers (default 2)")
        }
        guard let n = Int(options["layers"] ?? "2"), n > 0 else {
            throw HostError("top-mlp: option 'layers' must be a whole number > 0, got '\(options["layers"]!)'")
        }
        layers = n
    }

    func prepare(_ model: any Backbone, stage: StageContext) throws {
        let first = max(0, model.decoderLayerCount - layers)
        let chosen = model.setTrainable { name in
            (first..<model.decoderLayerCount).contains { name.hasPrefix("model.layers.\($0).mlp.") }
        }
        guard !chosen.isEmpty else { throw HostError("top-mlp: no decoder MLP parameters on this backbone") }
    }
    // loss and finish: the defaults (answer-only cross-entropy; nothing at the end of a stage).
}

var preset = "small"
var out = "custom-strategy"
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard let value = arguments.popFirst() else { fatalError("\(flag) needs a value") }
    switch flag {
    case "--preset": preset = value
    case "--out": out = value
    default: fatalError("unknown option \(flag); options: --preset, --out")
    }
}

do {
    let registries = SkillTuneRegistries.builtIn()
    try registries.strategies.register(name: "top-mlp", summary: "MLPs of the top decoder layers only") { options in
        try TopLayersMLP(options: options)
    }
    var config = try StudyConfig.defaults(preset: preset)
    config.strategies = ["top-mlp", "sa-proj"]
    config.strategyOptions = ["top-mlp": ["layers": "2"]]
    let results = try Study(config: config, registries: registries, outputDirectory: URL(fileURLWithPath: out)).run()
    print(ResultFiles.summaryTable(results), terminator: "")
} catch {
    FileHandle.standardError.write("CustomStrategy: \(error)\n".data(using: .utf8)!)
    exit(1)
}
