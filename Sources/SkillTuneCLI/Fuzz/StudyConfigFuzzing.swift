import Foundation
import Host
import Kernel

extension FuzzTarget {
    /// Study files (`skilltune compare --config`): `StudyFile.parse` and the settings check.
    static let studyConfig = FuzzTarget(
        name: "study-config", summary: "study files for 'compare --config' (StudyFile.parse, StudyConfig.problems)",
        dictionary: [
            "\"model\"", "\"targets\"", "\"heldOut\"", "\"strategies\"", "\"strategyOptions\"", "\"training\"",
            "\"pretraining\"", "\"steps\"", "\"batchSize\"", "\"learningRate\"", "\"seed\"", "\"preset\"",
            "\"tiny\"", "\"quick\"", "\"backbone\"", "\"a.jsonl@numeric\"", "18446744073709551615", "-1", "null",
        ],
        builtInSeeds: {
            [
                Array(
                    #"{"preset":"tiny","targets":["count","a.jsonl@numeric"],"heldOut":["seed"],"strategies":["lora"],"strategyOptions":{"lora":{"rank":"4"}},"training":{"steps":3,"learningRate":0.001},"seed":2}"#
                        .utf8)
            ]
        },
        mutate: { mutator, input, other in mutator.mutateJSON(input, other: other) },
        run: { bytes in
            let config = try StudyFile.parse(
                Data(bytes), file: "<fuzz>", directory: URL(fileURLWithPath: "/nonexistent"))
            _ = config.problems()
        })
}
