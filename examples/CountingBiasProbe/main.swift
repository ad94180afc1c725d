// How fast does tuning on counting bias a model toward number tokens, and which recipe resists it?
// Trains llm, sa-proj and mlp-gate-up on the counting skill from the same base model and runs the
// counting-bias probe after 1, 10, 100 and 1000 training iterations, next to held-out accuracy.
//
//   swift run -c release CountingBiasProbe [--preset quick|small] [--iterations 1,10,100,1000]
import Foundation
import Host
import Kernel

var preset = "small"
var iterations = [1, 10, 100, 1000]
var strategies = ["llm", "sa-proj", "mlp-gate-up"]
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard let value = arguments.popFirst() else { fatalError("\(flag) needs a value") }
    switch flag {
    case "--preset": preset = value
    case "--iterations": iterations = value.split(separator: ",").compactMap { Int($0) }.sorted()
    case "--strategies": strategies = value.split(separator: ",").map(String.init)
    default: fatalError("unknown option \(flag); options: --preset, --iterations, --strategies")
    }
}

do {
    let registries = SkillTuneRegistries.builtIn()
    var config = try StudyConfig.defaults(preset: preset)
    config.targets = ["count"]
    let data = try StudyData(config: config, registries: registries)
    let (_, baseDirectory, _) = try Pretrainer.baseModel(config: config, data: data, registries: registries) {
        print($0)
    }
    let heldOut = data.heldOut

    func probe(_ model: any Backbone) -> (mass: Double, heldOut: Double) {
        let requests = data.probeCaptions.map { Evaluator.request(for: $0, model: model) }
        let bias = CountingBiasProbe.measure(
            model, prompts: requests, numberIDs: NumberTokens.ids(in: model.tokenizer),
            maxNewTokens: config.maxNewTokens)
        let accuracy = heldOut.map {
            Evaluator.evaluate(model, on: $0, examples: data.eval[$0.name] ?? [], maxNewTokens: config.maxNewTokens)
                .accuracy
        }
        return (bias.numberMassMean.mean, accuracy.reduce(0, +) / Double(accuracy.count))
    }

    print("strategy      iterations  number mass on held-out prompts  held-out accuracy")
    for name in strategies {
        let model = try registries.backbones.make(config.backbone).load(baseDirectory)
        let base = probe(model)
        print(String(format: "%-12@  %10d  %31.4f  %17.1f", name as NSString, 0, base.mass, base.heldOut))
        var settings = config.training
        settings.steps = iterations.last ?? 1
        var schedule = BatchSchedule(
            examples: data.train["count"] ?? [], batchSize: settings.batchSize,
            generator: RandomGenerator(seed: config.seed).fork("counting-bias"))
        _ = try StageTrainer.run(
            model: model, strategy: try registries.strategy(name),
            stage: StageContext(index: 1, name: "count", totalSteps: settings.steps, seed: config.seed),
            settings: settings, batch: { _ in makeBatch(model, schedule.next()) }
        ) { step, _, _ in
            guard iterations.contains(step) else { return }
            let now = Autograd.withNoGrad { probe(model) }
            model.setTraining(true)
            print(String(format: "%-12@  %10d  %31.4f  %17.1f", name as NSString, step, now.mass, now.heldOut))
        }
    }
} catch {
    FileHandle.standardError.write("CountingBiasProbe: \(error)\n".data(using: .utf8)!)
    exit(1)
}
