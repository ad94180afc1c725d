import Foundation
import Host
import Kernel
import SkillTuneCLI
import XCTest

/// A study run as a cluster runs it (the base phase, each cell on its own, the merge) gives the files a
/// single-machine run gives; missing cells are listed with the commands that run only them; each phase is
/// idempotent and cleans up only its own leftovers.
final class StudyClusterTests: ScratchTestCase {
    override class var scratchPrefix: String { "skilltune-cluster" }

    func config() throws -> StudyConfig {
        var c = try StudyConfig.defaults(preset: "tiny")
        c.strategies = ["sa-proj", "lora", "mlp-gate-up"]
        c.targets = ["count", "clock"]
        c.heldOut = ["diagram", "seed"]
        return c
    }

    func study(_ out: String, _ c: StudyConfig? = nil, resume: Bool = true) throws -> Study {
        setenv("SKILLTUNE_CACHE", scratch.appendingPathComponent("cache").path, 1)
        let s = Study(
            config: try c ?? config(), registries: SkillTuneRegistries.builtIn(),
            outputDirectory: scratch.appendingPathComponent(out), resume: resume)
        s.log = { _ in }
        return s
    }

    /// results.json with the wall-clock section blanked, and the report rendered from it.
    func withoutTimings(_ dir: String) throws -> (json: Data, report: String) {
        var r = try ResultFiles.read(from: scratch.appendingPathComponent(dir).appendingPathComponent("results.json"))
        r.timings = Timings(startedAt: "", totalSeconds: 0, pretrainSeconds: 0, strategySeconds: [:])
        return (try ResultFiles.encoder.encode(r), HTMLReport.render(r))
    }

    func file(_ dir: String, _ name: String) throws -> Data {
        try Data(contentsOf: scratch.appendingPathComponent(dir).appendingPathComponent(name))
    }

    func testPhasesRunApartMergeToTheSingleMachineResults() throws {
        try study("local", resume: false).run()
        let grid = try study("grid")
        try grid.runBasePhase()
        for name in try config().strategies.reversed() { try grid.runCell(named: name) }
        let merged = try grid.merge(allowPartial: false)
        XCTAssertEqual(merged.missing, [])
        XCTAssertEqual(merged.warnings, [], "one host, one thread count")
        XCTAssertTrue(merged.wrote)
        XCTAssertEqual(try withoutTimings("grid").json, try withoutTimings("local").json)
        XCTAssertEqual(try withoutTimings("grid").report, try withoutTimings("local").report)
        XCTAssertEqual(try file("grid", "results.csv"), try file("local", "results.csv"))
        // A single-machine run's directory merges too (its cells write the same records).
        try study("local").merge(allowPartial: false)
        XCTAssertEqual(try withoutTimings("local").json, try withoutTimings("grid").json)
    }

    /// Several seeds: the study once per seed (`seed-<s>/`, each with its own base), combined; on a cluster one
    /// cell per seed and strategy, the base job making every seed's base, and the merge combining them the same.
    func testSeveralSeedsRunApartMergeToTheSingleMachineResults() throws {
        var c = try config()
        c.strategies = ["sa-proj", "lora"]
        c.seeds = [0, 1]
        let local = try study("local", c, resume: false).run()
        XCTAssertEqual(local.seedRuns?.map(\.seed), [0, 1])
        XCTAssertEqual(local.intervals?.map(\.name), ["sa-proj", "lora"])
        for seed in [0, 1] {
            let own = try ResultFiles.read(
                from: scratch.appendingPathComponent("local/seed-\(seed)/results.json"))
            XCTAssertEqual(own.settings.seed, UInt64(seed))
            XCTAssertEqual(own.strategies, local.seedRuns?[seed].strategies, "seed \(seed)'s own results")
        }
        XCTAssertNotEqual(
            local.seedRuns?[0].strategies[0].countingBias[0], local.seedRuns?[1].strategies[0].countingBias[0],
            "each seed has its own base model")

        let plan = StudyPlan(settings: c, executable: "/x", slurm: nil)
        XCTAssertEqual(
            plan.cells.map { "\($0.index):\($0.strategy)@\($0.seed)" },
            ["0:sa-proj@0", "1:lora@0", "2:sa-proj@1", "3:lora@1"])
        let grid = try study("grid", c)
        XCTAssertEqual(try grid.runBasePhase().count, 2)
        for cell in plan.cells.reversed() { try grid.seedStudy(cell.seed).runCell(named: cell.strategy) }
        try FileManager.default.removeItem(
            at: grid.seedStudy(1).cellDirectory("lora").appendingPathComponent("result.json"))
        XCTAssertEqual(try grid.merge(allowPartial: false).missing, [StudyMerge.Cell(seed: 1, strategy: "lora")])
        try grid.seedStudy(1).runCell(named: "lora")
        XCTAssertEqual(try grid.merge(allowPartial: false).missing, [])
        XCTAssertEqual(try withoutTimings("grid").json, try withoutTimings("local").json)
        XCTAssertEqual(try file("grid", "results.csv"), try file("local", "results.csv"))
    }

    func testACellNeedsTheBaseAndAFinishedCellReturnsAtOnce() throws {
        let grid = try study("grid", resume: true)
        XCTAssertThrowsError(try grid.runCell(named: "lora")) {
            XCTAssertTrue("\($0)".contains("study.json"), "\($0)")
        }
        try grid.runBasePhase()
        XCTAssertTrue(grid.baseFinished)
        XCTAssertThrowsError(try grid.runCell(named: "llm")) {
            XCTAssertTrue("\($0)".contains("not a cell of this study (cells: sa-proj, lora, mlp-gate-up)"), "\($0)")
        }
        let first = try grid.runCell(named: "lora")
        let result = grid.cellDirectory("lora").appendingPathComponent("result.json")
        let written = try FileManager.default.attributesOfItem(atPath: result.path)[.modificationDate] as! Date
        var messages: [String] = []
        grid.log = { messages.append($0) }
        usleep(20_000)
        XCTAssertEqual(try grid.runCell(named: "lora"), first)
        XCTAssertEqual(
            try FileManager.default.attributesOfItem(atPath: result.path)[.modificationDate] as! Date, written,
            "a finished cell is not run again")
        XCTAssertTrue(messages.contains { $0.contains("already finished") }, "\(messages)")
    }

    func testCellWithoutTheBasePhaseNamesTheBaseJob() throws {
        let grid = try study("grid")
        try grid.runBasePhase()
        let record = scratch.appendingPathComponent("grid/checkpoints/base/base.json")
        try FileManager.default.removeItem(at: record)
        XCTAssertThrowsError(try grid.runCell(named: "lora")) {
            XCTAssertTrue("\($0)".contains("base phase has not finished"), "\($0)")
            XCTAssertTrue("\($0)".contains("cell --plan"), "\($0)")
        }
    }

    func testMissingCellsAreListedAndAPartialMergeMarksThem() throws {
        let grid = try study("grid")
        try grid.runBasePhase()
        try grid.runCell(named: "sa-proj")
        try grid.runCell(named: "mlp-gate-up")
        let merged = try grid.merge(allowPartial: false)
        XCTAssertEqual(merged.missing, [StudyMerge.Cell(seed: 0, strategy: "lora")])
        XCTAssertFalse(merged.wrote)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("grid/results.json").path))
        let partial = try grid.merge(allowPartial: true)
        XCTAssertTrue(partial.wrote)
        let results = try ResultFiles.read(from: scratch.appendingPathComponent("grid/results.json"))
        XCTAssertEqual(results.strategies.map(\.status), ["complete", "missing", "complete"])
        XCTAssertEqual(results.strategies[1].accuracy.count, 1, "only the base row")
        XCTAssertTrue(HTMLReport.render(results).contains("missing"))
        // Before the base phase: every cell is missing and nothing is written.
        let empty = try study("empty", resume: false)
        try FileManager.default.createDirectory(at: empty.outputDirectory, withIntermediateDirectories: true)
        try ResultFiles.encoder.encode(try config()).write(to: empty.studyFile)
        let none = try empty.merge(allowPartial: true)
        XCTAssertNil(none.results)
        XCTAssertEqual(none.missing.map(\.strategy), ["sa-proj", "lora", "mlp-gate-up"])
    }

    /// Cells that ran on other hosts or with other thread counts or arithmetic are merged with a warning each.
    func testMergeWarnsWhenCellsRanOnOtherHostsOrThreadCounts() throws {
        let grid = try study("grid")
        try grid.runBasePhase()
        for name in try config().strategies { try grid.runCell(named: name) }
        let file = grid.cellDirectory("lora").appendingPathComponent("result.json")
        var record = try JSONDecoder().decode(CellRecord.self, from: Data(contentsOf: file))
        record.host = "node17"
        record.threads += 3
        record.arithmetic = record.arithmetic == "fused" ? "separate" : "fused"
        try ResultFiles.encoder.encode(record).write(to: file)
        let merged = try grid.merge(allowPartial: false)
        XCTAssertEqual(merged.warnings.count, 3, "\(merged.warnings)")
        XCTAssertTrue(merged.warnings[0].contains("cells ran on 2 hosts"), merged.warnings[0])
        XCTAssertTrue(merged.warnings[1].contains("different thread counts"), merged.warnings[1])
        XCTAssertTrue(merged.warnings[2].contains("SKILLTUNE_GEMM_FMA"), merged.warnings[2])
        XCTAssertTrue(merged.wrote, "warnings do not stop the merge")
    }

    /// On a shared filesystem a cell removes only the temporary files its own killed writes left on this host:
    /// not another cell's, and never another host's.
    func testACellCleansOnlyItsOwnLeftovers() throws {
        let grid = try study("grid")
        try grid.runBasePhase()
        let dead = TemporaryOwner(host: TemporaryOwner.hostTag, pid: deadPid())
        func leftover(_ directory: URL, owner: String) throws -> URL {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let file = directory.appendingPathComponent(".stage.json.tmp-\(owner)-00ff")
            try Data("{".utf8).write(to: file)
            return file
        }
        let deadOwner = "\(dead.host!)-\(dead.pid)"
        let own = try leftover(grid.cellDirectory("lora").appendingPathComponent("stage-1"), owner: deadOwner)
        let other = try leftover(grid.cellDirectory("sa-proj").appendingPathComponent("stage-1"), owner: deadOwner)
        let otherHost = try leftover(grid.cellDirectory("lora"), owner: "node17_cluster-\(dead.pid)")
        XCTAssertNotNil(AtomicFile.temporaryFileOwner(own.lastPathComponent), "the name has the temporary form")
        try grid.runCell(named: "lora")
        XCTAssertFalse(FileManager.default.fileExists(atPath: own.path), "its own abandoned file is removed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: other.path), "another cell's is left alone")
        XCTAssertTrue(FileManager.default.fileExists(atPath: otherHost.path), "another host's is left alone")
    }

    /// A pid no process has (the highest pids are free on any test machine).
    func deadPid() -> Int32 {
        var pid: Int32 = 4_000_000
        while kill(pid, 0) == 0 || errno != ESRCH { pid -= 1 }
        return pid
    }

    // MARK: The commands

    func run(_ command: Command, _ arguments: [String]) throws {
        try command.run(
            ParsedArguments(
                command: command.name, arguments: arguments, options: command.options,
                maxPositionals: command.maxPositionals))
    }

    var studyArguments: [String] { ["--preset", "quick"] + gridArguments }

    var gridArguments: [String] {
        [
            "--strategies", "sa-proj,lora", "--targets", "count,clock", "--held-out",
            "diagram,seed", "--quiet",
        ]
    }

    func testCompareWithTheSlurmLauncherWritesThePlanAndScriptsAndSubmitsWhatIsMissing() throws {
        let out = scratch.appendingPathComponent("slurm-run")
        let compare = SkillTuneCommands.all(SkillTuneRegistries.builtIn()).first { $0.name == "compare" }!
        let dryRun = try printedOutputOfCompare(
            studyArguments + ["--launcher", "slurm", "--dry-run", "--out", out.path, "--cpus-per-task", "2"])
        XCTAssertTrue(dryRun.contains("dry run: nothing submitted"), dryRun)
        XCTAssertTrue(dryRun.contains("--array=0-1"), dryRun)
        let plan = try StudyPlan.read(out.appendingPathComponent("plan.json"))
        XCTAssertEqual(plan.cells.map(\.strategy), ["sa-proj", "lora"])
        XCTAssertEqual(plan.slurm?.cpusPerTask, 2)
        for name in SlurmLauncher.scriptNames {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("slurm/\(name)").path))
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("logs").path))
        // Again without --resume: refused; with --resume and no settings: the plan's.
        XCTAssertThrowsError(try run(compare, studyArguments + ["--launcher", "slurm", "--out", out.path])) {
            XCTAssertTrue("\($0)".contains("pass --resume"), "\($0)")
        }
        var submitted: [[String]] = []
        let printed = try printedOutputOfCompare(
            ["--launcher", "slurm", "--resume", "--out", out.path, "--quiet"],
            submit: {
                submitted.append($0)
                return "\(41 + submitted.count)"
            })
        XCTAssertEqual(submitted.count, 3, "the base, the cells and the merge")
        XCTAssertTrue(printed.contains("submitted: base job 42, cells array 43 (2 tasks: 0-1), merge job 44"), printed)
        XCTAssertTrue(printed.contains("squeue -j 42,43,44"), printed)
        // Other settings with --resume: refused.
        XCTAssertThrowsError(
            try run(compare, studyArguments + ["--launcher", "slurm", "--resume", "--out", out.path, "--seed", "5"])
        ) { XCTAssertTrue("\($0)".contains("other settings"), "\($0)") }
    }

    func testClusterOptionsNeedTheLauncherAndUnknownLaunchersAreListed() throws {
        let compare = SkillTuneCommands.all(SkillTuneRegistries.builtIn()).first { $0.name == "compare" }!
        XCTAssertThrowsError(try run(compare, studyArguments + ["--partition", "cpu"])) {
            XCTAssertTrue("\($0)".contains("'--partition' needs --launcher slurm"), "\($0)")
        }
        XCTAssertThrowsError(try run(compare, studyArguments + ["--launcher", "pbs"])) {
            XCTAssertTrue("\($0)".contains("must be one of slurm; got 'pbs'"), "\($0)")
        }
        XCTAssertThrowsError(
            try run(compare, studyArguments + ["--launcher", "slurm", "--time", "4h", "--dry-run"])
        ) { XCTAssertTrue("\($0)".contains("--time '4h'"), "\($0)") }
    }

    func testMergeCommandListsMissingCellsWithTheCommandsThatRunOnlyThem() throws {
        let out = scratch.appendingPathComponent("m")
        _ = try printedOutputOfCompare(
            gridArguments + ["--launcher", "slurm", "--dry-run", "--out", out.path, "--preset", "tiny"])
        let plan = try StudyPlan.read(out.appendingPathComponent("plan.json"))
        let grid = Study(config: plan.settings, registries: .builtIn(), outputDirectory: out, resume: true)
        grid.log = { _ in }
        setenv("SKILLTUNE_CACHE", scratch.appendingPathComponent("cache").path, 1)
        try grid.runBasePhase()
        try grid.runCell(named: "sa-proj")
        try Data("== started\nfault injection: SIGKILL at 'cell lora'\n".utf8).write(
            to: out.appendingPathComponent("logs/cell-1.out"))
        let merge = ClusterCommands.merge(.builtIn(), print: { _ in })
        XCTAssertThrowsError(try run(merge, [out.path, "--quiet"])) {
            let message = "\($0)"
            XCTAssertTrue(message.contains("1 of 2 cells have not finished"), message)
            XCTAssertTrue(message.contains("cell 1 (lora): 0 of 2 stages finished"), message)
            XCTAssertTrue(message.contains("fault injection: SIGKILL at 'cell lora'"), message)
            XCTAssertTrue(
                message.contains("resubmit only them: sbatch --array=1 \(out.path)/slurm/cells.sbatch"), message)
            XCTAssertTrue(message.contains("compare --launcher slurm --resume --out \(out.path)"), message)
        }
        try run(merge, [out.path, "--allow-partial", "--quiet"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("results.json").path))
    }

    func printedOutputOfCompare(_ arguments: [String], submit: @escaping ([String]) throws -> String = { _ in "1" })
        throws -> String
    {
        var printed = ""
        setenv("SKILLTUNE_CACHE", scratch.appendingPathComponent("cache").path, 1)
        let command = Command(name: "compare", summary: "", options: compareOptions) { a in
            try ClusterCommands.launch(
                a, registries: .builtIn(), print: { printed += $0 + "\n" }, submit: submit)
        }
        try run(command, arguments)
        return printed
    }

    var compareOptions: [OptionSpec] {
        SkillTuneCommands.all(SkillTuneRegistries.builtIn()).first { $0.name == "compare" }!.options
            .filter { $0.name != "help" }
    }
}
