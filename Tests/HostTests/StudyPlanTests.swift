import Foundation
import Host
import Kernel
import XCTest

/// The cluster plan without a cluster: plan.json, the cell index from each batch engine's variable, the SLURM
/// settings' checks, the golden sbatch scripts and the submission chain (with `sbatch` replaced by a recorder).
final class StudyPlanTests: XCTestCase {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/slurm")

    func plan(slurm: SlurmSettings? = SlurmSettings()) throws -> StudyPlan {
        var config = try StudyConfig.defaults(preset: "tiny")
        config.strategies = ["sa-proj", "lora", "llm"]
        return StudyPlan(settings: config, executable: "/shared/bin/skilltune", slurm: slurm)
    }

    func testPlanListsOneCellPerStrategyInOrderAndRoundTrips() throws {
        let plan = try plan()
        XCTAssertEqual(plan.cells.map(\.index), [0, 1, 2])
        XCTAssertEqual(plan.cells.map(\.strategy), ["sa-proj", "lora", "llm"])
        let data = try JSONEncoder().encode(plan)
        XCTAssertEqual(try StudyPlan.parse(data, file: "plan.json"), plan)
        XCTAssertEqual(try plan.cell(2).strategy, "llm")
        XCTAssertThrowsError(try plan.cell(3)) { XCTAssertTrue("\($0)".contains("cells 0...2"), "\($0)") }
    }

    func testBadPlansAreClearErrors() throws {
        func problem(_ edit: (inout [String: Any]) -> Void) throws -> String {
            var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(try plan())) as! [String: Any]
            edit(&object)
            let data = try JSONSerialization.data(withJSONObject: object)
            do {
                _ = try StudyPlan.parse(data, file: "p.json")
                return ""
            } catch { return "\(error)" }
        }
        XCTAssertTrue(try problem { $0["version"] = 9 }.contains("plan version 9"))
        XCTAssertTrue(
            try problem { $0["cells"] = [["index": 0, "strategy": "lora", "seed": 0]] }.contains("field 'cells'"))
        XCTAssertTrue(try problem { $0.removeValue(forKey: "settings") }.contains("'settings' is missing"))
        XCTAssertTrue(
            try problem {
                var slurm = $0["slurm"] as! [String: Any]
                slurm["time"] = "soon"
                $0["slurm"] = slurm
            }.contains("--time 'soon'"))
        XCTAssertTrue(try problem { $0["cells"] = "all" }.contains("p.json: not a SkillTune plan"))
        XCTAssertThrowsError(try StudyPlan.parse(Data("[[[[".utf8), file: "p.json")) {
            XCTAssertTrue("\($0)".contains("p.json"), "\($0)")
        }
        XCTAssertThrowsError(try StudyPlan.read(URL(fileURLWithPath: "/nonexistent/plan.json"))) {
            XCTAssertTrue("\($0)".contains("compare --launcher slurm"), "\($0)")
        }
    }

    func testTheCellIndexComesFromEachBatchEnginesVariable() throws {
        XCTAssertEqual(try CellEnvironment.index(given: nil, environment: ["SLURM_ARRAY_TASK_ID": "2"]), 2)
        XCTAssertEqual(try CellEnvironment.index(given: nil, environment: ["JOB_COMPLETION_INDEX": "1"]), 1)
        XCTAssertEqual(try CellEnvironment.index(given: nil, environment: ["AWS_BATCH_JOB_ARRAY_INDEX": "0"]), 0)
        XCTAssertEqual(
            try CellEnvironment.index(given: 4, environment: ["SLURM_ARRAY_TASK_ID": "2"]), 4, "--index wins")
        XCTAssertEqual(
            try CellEnvironment.index(
                given: nil, environment: ["JOB_COMPLETION_INDEX": "1", "SLURM_ARRAY_TASK_ID": "3"]), 3)
        XCTAssertThrowsError(try CellEnvironment.index(given: nil, environment: [:])) {
            XCTAssertTrue("\($0)".contains("--index N"), "\($0)")
            XCTAssertTrue("\($0)".contains("AWS_BATCH_JOB_ARRAY_INDEX"), "\($0)")
        }
        XCTAssertThrowsError(try CellEnvironment.index(given: nil, environment: ["SLURM_ARRAY_TASK_ID": "-1"])) {
            XCTAssertTrue("\($0)".contains("SLURM_ARRAY_TASK_ID='-1'"), "\($0)")
        }
        XCTAssertEqual(try CellEnvironment.threads(environment: ["SLURM_CPUS_PER_TASK": "4"]), 4)
        XCTAssertNil(try CellEnvironment.threads(environment: [:]))
        XCTAssertThrowsError(try CellEnvironment.threads(environment: ["SLURM_CPUS_PER_TASK": "0"]))
    }

    func testSlurmSettingsAreChecked() throws {
        for good in ["30", "1:30", "04:00:00", "2-12", "2-12:30", "2-12:30:00"] {
            XCTAssertNoThrow(try SlurmSettings(time: good).check(source: "t"), good)
        }
        XCTAssertThrowsError(try SlurmSettings(time: "4h").check(source: "t"))
        XCTAssertThrowsError(try SlurmSettings(memory: "16 GB").check(source: "t"))
        XCTAssertThrowsError(try SlurmSettings(partition: "a b").check(source: "t"))
        XCTAssertThrowsError(try SlurmSettings(extraArguments: ["account=ml"]).check(source: "t")) {
            XCTAssertTrue("\($0)".contains("--sbatch-arg 'account=ml'"), "\($0)")
        }
        XCTAssertNoThrow(try SlurmSettings(memory: "16G", extraArguments: ["--account=ml"]).check(source: "t"))
    }

    func testArraySpecsAreRanges() {
        XCTAssertEqual(SlurmLauncher.arraySpec([0, 1, 2], parallelism: nil), "0-2")
        XCTAssertEqual(SlurmLauncher.arraySpec([8, 7, 0, 1, 2, 5], parallelism: 2), "0-2,5,7-8%2")
        XCTAssertEqual(SlurmLauncher.arraySpec([3], parallelism: nil), "3")
    }

    /// The scripts are compared with committed files (Tests/Fixtures/slurm/), reviewed by hand: every option the
    /// issue asks for, the signal forwarding and the requeue.
    func testScriptsMatchTheGoldenFiles() throws {
        let slurm = SlurmSettings(
            partition: "cpu", time: "04:00:00", memory: "16G", cpusPerTask: 4, arrayParallelism: 2,
            extraArguments: ["--account=ml", "--qos=low"])
        let scripts = SlurmLauncher.scripts(
            try plan(slurm: slurm), directory: URL(fileURLWithPath: "/scratch/studies/quick"))
        XCTAssertEqual(scripts.map(\.name), SlurmLauncher.scriptNames)
        for (name, text) in scripts {
            let expected = try String(contentsOf: Self.golden.appendingPathComponent(name), encoding: .utf8)
            XCTAssertEqual(text, expected, "\(name) differs from Tests/Fixtures/slurm/\(name)")
        }
    }

    func testSubmissionChainsBaseCellsAndMergeWithDependencies() throws {
        var calls: [[String]] = []
        var next = 100
        let directory = URL(fileURLWithPath: "/scratch/s")
        let jobs = try SlurmLauncher.submit(
            try plan(slurm: SlurmSettings(arrayParallelism: 2)), directory: directory, submitBase: true,
            cells: [0, 1, 2]
        ) { arguments in
            calls.append(arguments)
            next += 1
            return "\(next);cluster\n"
        }
        XCTAssertEqual(jobs, SlurmLauncher.Jobs(base: "101", cells: "102", merge: "103"))
        XCTAssertEqual(
            calls,
            [
                ["--parsable", "/scratch/s/slurm/base.sbatch"],
                [
                    "--parsable", "--array=0-2%2", "--dependency=afterok:101", "--kill-on-invalid-dep=yes",
                    "/scratch/s/slurm/cells.sbatch",
                ],
                ["--parsable", "--dependency=afterany:102", "/scratch/s/slurm/merge.sbatch"],
            ])
        // Resubmitting two missing cells after the base finished: no base job, no dependency on it.
        calls = []
        let again = try SlurmLauncher.submit(
            try plan(), directory: directory, submitBase: false, cells: [2, 0]
        ) { arguments in
            calls.append(arguments)
            next += 1
            return "\(next)"
        }
        XCTAssertNil(again.base)
        XCTAssertEqual(calls[0], ["--parsable", "--array=0,2", "/scratch/s/slurm/cells.sbatch"])
        XCTAssertEqual(calls[1], ["--parsable", "--dependency=afterany:104", "/scratch/s/slurm/merge.sbatch"])
        XCTAssertThrowsError(
            try SlurmLauncher.submit(try plan(), directory: directory, submitBase: true, cells: []) { _ in
                "Submitted batch job 5"
            }
        ) { XCTAssertTrue("\($0)".contains("not a job id"), "\($0)") }
    }
}
