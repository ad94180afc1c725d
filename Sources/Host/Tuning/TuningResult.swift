import Foundation
import Kernel

/// What `TuningRun.run()` measured, as `skilltune tune --json` prints it (keys sorted).
public struct TuningResult: Codable, Equatable, Sendable {
    /// The settings of the run.
    public struct Record: Codable, Equatable, Sendable {
        public var model: String
        public var family: String
        public var strategy: String
        /// Every option of the strategy with its value.
        public var options: [String: String]
        /// The data references in stage order, their explicit eval files (if any), and the watch benchmarks.
        public var data: [String]
        public var evalData: [String?]
        public var watch: [String]
        public var settings: TuningSettings
        public var threads: Int
        /// Whether prompts and answers went through the model's chat template (`ChatTemplating`); nil in
        /// results written before this was recorded.
        public var chatTemplate: Bool?
    }

    /// One stage: what it trained on and its loss.
    public struct Stage: Codable, Equatable, Sendable {
        public var name: String
        public var trainExamples: Int
        /// The loss of every step (null where a non-finite step was skipped).
        public var losses: [Double?]
        public var meanLoss: Double
        public var trainableParameters: Int
        public var totalParameters: Int
        public var seconds: Double
        /// The forgetting monitor at the `--probe-at` steps (nil without them).
        public var monitor: [MonitorPoint]? = nil
    }

    /// Accuracy (percent) of one data file's eval split or one watch benchmark.
    public struct Row: Codable, Equatable, Sendable {
        public var benchmark: String
        /// "data" (a stage's eval split) or "watch".
        public var role: String
        public var evalExamples: Int
        public var before: Double
        public var after: Double
        /// after - before, in points.
        public var change: Double
        /// The accuracy after every stage, in stage order (the last equals `after`).
        public var afterStage: [Double]
    }

    public var tool: String
    public var settings: Record
    public var stages: [Stage]
    public var accuracy: [Row]
    /// Where the tuned model went, once exported.
    public var export: TuningExport?
    /// Seconds for the whole run (training and evaluation).
    public var seconds: Double

    /// The accuracy table: one row per benchmark, its accuracy before, after each stage, and the change.
    public func table() -> String {
        let width = max(11, (accuracy.map(\.benchmark.count).max() ?? 0) + 2)
        let stageHeaders = stages.map { "after \($0.name)" }
        let columnWidth = max(8, (stageHeaders.map(\.count).max() ?? 0) + 2)
        func cell(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        var out =
            "benchmark".padding(toLength: width, withPad: " ", startingAt: 0) + "role  " + cell("before", 8)
            + stageHeaders.map { cell($0, columnWidth) }.joined() + cell("change", 9) + "\n"
        for row in accuracy {
            out +=
                row.benchmark.padding(toLength: width, withPad: " ", startingAt: 0)
                + row.role.padding(toLength: 6, withPad: " ", startingAt: 0)
                + cell(String(format: "%.1f", row.before), 8)
                + row.afterStage.map { cell(String(format: "%.1f", $0), columnWidth) }.joined()
                + cell(String(format: "%+.1f", row.change), 9) + "\n"
        }
        return out
    }
}

/// Where and how a tuned model was written.
public struct TuningExport: Codable, Equatable, Sendable {
    public enum Format: String, Codable, Sendable {
        /// The input's checkpoint format and layout (a Hugging Face directory transformers loads).
        case checkpoint
        /// Adapters on the untouched base model (a PEFT LoRA adapter directory).
        case adapter
        /// SkillTune's own checkpoint format (`Backbone.save(to:)`), for backbones without an outside format.
        case skilltune
    }

    public var path: String
    public var format: Format
    /// The weights' dtype when one was asked for (nil: the input's).
    public var dtype: String?
    /// Whether adapters were merged into the weights first.
    public var merged: Bool
    /// The files written, sorted.
    public var files: [String]
}
