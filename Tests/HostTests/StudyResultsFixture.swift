import Foundation
import Host
import Kernel
import SkillTuneCLI

/// Hand-built study results with numbers shaped like the paper's: llm learns most and forgets most, sa-proj
/// forgets little, mlp-gate-up sits in between. Shared by the report tests.
enum StudyResultsFixture {
    static let targets = ["species", "count", "pathology", "text", "clock"]
    static let heldOut = [
        "diagrams", "charts", "documents", "infographics", "realworld-qa", "mc-suite",
        "science-qa", "hard-mc",
    ]
    static let baseTargets = [12.5, 35.0, 28.75, 40.0, 6.25]
    static let baseHeldOut = [71.25, 62.5, 80.0, 55.0, 66.25, 82.5, 88.75, 45.0]
    /// How strongly each held-out benchmark follows the average shift (mean 1).
    static let heldOutSensitivity = [1.2, 1.5, 0.6, 1.3, 0.9, 0.7, 0.5, 1.3]
    static let totalParameters = 12_345_678

    struct Profile {
        var gains: [Double]
        var retention: Double
        /// Mean held-out change after each tuned stage.
        var heldOutShift: [Double]
        var trainable: Int
        var attentionShift: Double
        var mlpShift: Double
    }

    static func profile(_ name: String, index: Int) -> Profile {
        switch name {
        case "llm":
            return Profile(
                gains: [40, 45, 30, 25, 60], retention: 0.8, heldOutShift: [-6, -21, -9, -8, -23],
                trainable: 9_876_543, attentionShift: 0.8, mlpShift: 2.4)
        case "sa-proj":
            return Profile(
                gains: [30, 38, 22, 18, 45], retention: 0.95, heldOutShift: [-0.5, -1.5, -0.3, -0.8, -0.6],
                trainable: 1_048_576, attentionShift: 0.6, mlpShift: 0)
        case "mlp-gate-up":
            return Profile(
                gains: [36, 43, 27, 22, 55], retention: 0.9, heldOutShift: [-1.5, -4, -1.2, -1.8, -2.1],
                trainable: 3_145_728, attentionShift: 0, mlpShift: 1.1)
        default:
            let k = Double(index % 7)
            return Profile(
                gains: [20 + 3 * k, 25 + 2 * k, 12 + k, 10 + 2 * k, 30 + 4 * k], retention: 0.85,
                heldOutShift: [-1 - k, -3 - 2 * k, -1 - k / 2, -1 - k, -2 - 1.5 * k],
                trainable: 500_000 * (index + 1), attentionShift: 0.1 * k, mlpShift: 0.2 * k)
        }
    }

    /// A finished comparison of the named strategies over the first `stageCount` targets.
    static func results(strategies names: [String] = ["llm", "sa-proj", "mlp-gate-up"], stageCount: Int = 5)
        -> StudyResults
    {
        let usedTargets = Array(targets.prefix(stageCount))
        let settings = StudySettings(
            backbone: "tiny-llava", preset: "small", seed: 7, threads: 2, targets: usedTargets, heldOut: heldOut,
            stepsPerStage: 120, batchSize: 8, learningRate: 5e-4, warmupFraction: 0.03, weightDecay: 0,
            gradientClip: 1, trainExamplesPerTarget: 960, evalExamplesPerBenchmark: 80, maxNewTokens: 8,
            probeExamples: 32, baseModel: "cache/tiny-llava-small-seed7")
        let benchmarks =
            usedTargets.map { BenchmarkInfo(name: $0, role: "target") }
            + heldOut.map { BenchmarkInfo(name: $0, role: "held-out") }
        let strategies = names.enumerated().map { strategy($1, index: $0, stageCount: stageCount) }
        var seconds: [String: Double] = [:]
        for (i, name) in names.enumerated() { seconds[name] = 61.5 + 12 * Double(i) }
        return StudyResults(
            settings: settings, benchmarks: benchmarks, stages: ["base"] + usedTargets,
            strategies: strategies,
            timings: Timings(
                startedAt: "2025-06-01T10:00:00Z", totalSeconds: 754.2,
                pretrainSeconds: 130.4, strategySeconds: seconds))
    }

    static func strategy(_ name: String, index: Int, stageCount: Int) -> StrategyResult {
        let p = profile(name, index: index)
        var accuracy: [[Double]] = []
        for stage in 0...stageCount {
            var row: [Double] = []
            for t in 0..<stageCount {
                let trainedAt = t + 1
                if stage < trainedAt {
                    row.append(baseTargets[t])
                } else {
                    let kept = pow(p.retention, Double(stage - trainedAt))
                    row.append(min(100, baseTargets[t] + p.gains[t] * kept))
                }
            }
            let shift = stage == 0 ? 0 : p.heldOutShift[stage - 1]
            for h in heldOut.indices { row.append(baseHeldOut[h] + shift * heldOutSensitivity[h]) }
            accuracy.append(row)
        }
        let stages = ["base"] + Array(targets.prefix(stageCount))
        let bias = stages.indices.map { stage -> CountingBiasResult in
            let shift = stage == 0 ? 0 : p.heldOutShift[stage - 1]
            let mass = 0.04 + 0.018 * abs(shift)
            return CountingBiasResult(stage: stages[stage], heldOut: split(mass), counting: split(0.6 + mass / 2))
        }
        let layers = (1...stageCount).map { stage -> LayerShiftResult in
            let growth = Double(stage) / Double(stageCount)
            return LayerShiftResult(
                stage: stages[stage],
                attention: (0..<6).map { p.attentionShift * growth * (0.6 + 0.1 * Double($0)) },
                mlp: (0..<6).map { p.mlpShift * growth * (0.5 + 0.15 * Double($0)) })
        }
        return StrategyResult(
            name: name, summary: "fixture recipe \(name)",
            options: name == "llm" ? [] : [StrategyOption(name: "lr-scale", value: "1", defaultValue: "1", help: "x")],
            trainableParameters: p.trainable, totalParameters: totalParameters, status: "complete",
            accuracy: accuracy, metrics: metrics(accuracy, targets: stageCount),
            countingBias: bias, layerShift: layers,
            trainingLoss: (1...stageCount).map { StageLoss(stage: stages[$0], mean: 1.2, curve: [2, 1.4, 1.1, 0.9]) })
    }

    /// A strategy that stopped after `measuredStages` rows (base included), as a failed run records it.
    static func failed(_ name: String, index: Int, measuredStages: Int, stageCount: Int = 5) -> StrategyResult {
        var result = strategy(name, index: index, stageCount: stageCount)
        result.status = "failed"
        result.failure = "stage \(measuredStages): loss became NaN at step 37"
        result.accuracy = Array(result.accuracy.prefix(measuredStages))
        result.metrics.heldOutForgettingPerStage = Array(
            result.metrics.heldOutForgettingPerStage.prefix(measuredStages))
        result.metrics.heldOutAveragePerStage = Array(result.metrics.heldOutAveragePerStage.prefix(measuredStages))
        result.countingBias = Array(result.countingBias.prefix(measuredStages))
        result.layerShift = Array(result.layerShift.prefix(max(0, measuredStages - 1)))
        return result
    }

    private static func split(_ mass: Double) -> CountingBiasSplit {
        CountingBiasSplit(
            samples: 32, numberMassMean: MeanStd(mean: mass, std: mass / 3),
            numberMassMax: MeanStd(mean: min(1, mass * 3), std: 0.05),
            maxNumberProbabilityMean: MeanStd(mean: mass * 0.6, std: 0.02),
            maxNumberProbabilityMax: MeanStd(mean: min(1, mass * 2), std: 0.05),
            maxNumberLogitMean: MeanStd(mean: 4 + 10 * mass, std: 1),
            maxNumberLogitMax: MeanStd(mean: 8 + 10 * mass, std: 1))
    }

    /// The study's metrics from an accuracy matrix whose first `targets` columns are the targets in order.
    static func metrics(_ accuracy: [[Double]], targets: Int) -> StudyMetrics {
        let last = accuracy.count - 1
        let heldOutColumns = targets..<accuracy[0].count
        func heldOutMean(_ row: [Double]) -> Double {
            heldOutColumns.map { row[$0] }.reduce(0, +) / Double(heldOutColumns.count)
        }
        let perStage = accuracy.map { heldOutMean($0) - heldOutMean(accuracy[0]) }
        let learning = (0..<targets).map { accuracy[$0 + 1][$0] - accuracy[0][$0] }.reduce(0, +) / Double(targets)
        let targetForgetting =
            (0..<targets).map { accuracy[last][$0] - accuracy[$0 + 1][$0] }.reduce(0, +)
            / Double(targets)
        let earlier = 0..<max(0, targets - 1)
        let bwt =
            earlier.isEmpty
            ? 0
            : earlier.map { accuracy[last][$0] - accuracy[$0 + 1][$0] }.reduce(0, +)
                / Double(earlier.count)
        let chaudhry =
            earlier.isEmpty
            ? 0
            : earlier.map { t in
                (t + 1...last).map { accuracy[$0][t] }.max()! - accuracy[last][t]
            }.reduce(0, +) / Double(earlier.count)
        return StudyMetrics(
            learning: learning, heldOutForgettingFinal: perStage[last], heldOutForgettingPerStage: perStage,
            heldOutAveragePerStage: accuracy.map(heldOutMean), targetForgetting: targetForgetting,
            backwardTransfer: bwt, chaudhryForgetting: chaudhry,
            averageTargetAccuracy: (0..<targets).map { accuracy[last][$0] }.reduce(0, +) / Double(targets))
    }
}
