// The study's main comparison through the public API: which tuning recipe learns the target skills most
// while forgetting the held-out abilities least?
//
//   swift run -c release CompareRecipes [--preset quick|small] [--out DIR] [--strategies a,b,...]
import Foundation
import Host

var preset = "small"
var out = "compare-recipes"
var strategies = ["sa-proj", "mlp-gate-up", "llm", "lora", "lwf"]
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard let value = arguments.popFirst() else { fatalError("\(flag) needs a value") }
    switch flag {
    case "--preset": preset = value
    case "--out": out = value
    case "--strategies": strategies = value.split(separator: ",").map(String.init)
    default: fatalError("unknown option \(flag); options: --preset, --out, --strategies")
    }
}

do {
    var config = try StudyConfig.defaults(preset: preset)  // the same data, steps and schedule for every recipe
    config.strategies = strategies
    let study = Study(config: config, registries: .builtIn(), outputDirectory: URL(fileURLWithPath: out))
    let results = try study.run()
    print(ResultFiles.summaryTable(results), terminator: "")

    // The study's question in one line: learning kept per point of held-out accuracy lost.
    for s in results.strategies where s.status == "complete" {
        let lost = max(0.1, -s.metrics.heldOutForgettingFinal)
        print(
            String(
                format: "%@: learned %+.1f, held-out %+.1f (%.1f points learned per point forgotten)",
                s.name, s.metrics.learning, s.metrics.heldOutForgettingFinal, s.metrics.learning / lost))
    }
    print("report: \(out)/report.html")
} catch {
    FileHandle.standardError.write("CompareRecipes: \(error)\n".data(using: .utf8)!)
    exit(1)
}
