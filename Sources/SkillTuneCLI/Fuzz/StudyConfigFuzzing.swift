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

extension FuzzTarget {
    /// Study plans (`skilltune cell --plan`, `skilltune merge`): `StudyPlan.parse` with its settings and SLURM checks.
    static let studyPlan = FuzzTarget(
        name: "study-plan", summary: "cluster plans for 'cell --plan' and 'merge' (StudyPlan.parse)",
        dictionary: [
            "\"version\"", "\"settings\"", "\"cells\"", "\"index\"", "\"strategy\"", "\"executable\"", "\"slurm\"",
            "\"cpusPerTask\"", "\"time\"", "\"memory\"", "\"arrayParallelism\"", "\"extraArguments\"",
            "\"signalSeconds\"", "\"04:00:00\"", "\"16G\"", "9223372036854775807", "-1", "null",
        ],
        builtInSeeds: {
            // The tiny preset always exists.
            var config = try! StudyConfig.defaults(preset: "tiny")
            config.strategies = ["sa-proj", "lora"]
            let plan = StudyPlan(
                settings: config, executable: "/shared/bin/skilltune",
                slurm: SlurmSettings(time: "04:00:00", memory: "16G", cpusPerTask: 2, extraArguments: ["--qos=low"]))
            return [Array((try? JSONEncoder().encode(plan)) ?? Data())]
        },
        mutate: { mutator, input, other in mutator.mutateJSON(input, other: other) },
        run: { bytes in
            let plan = try StudyPlan.parse(Data(bytes), file: "<fuzz>")
            for cell in plan.cells { _ = try plan.cell(cell.index) }
            _ = SlurmLauncher.scripts(plan, directory: URL(fileURLWithPath: "/nonexistent/study"))
        })
}
