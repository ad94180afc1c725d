import Foundation
import Host
import Kernel

/// The study on a cluster: `compare --launcher slurm` plans and submits it, `cell` runs one job of it, `merge`
/// gathers the cells into the result files.
public enum ClusterCommands {
    /// The launchers `compare --launcher` knows.
    static let launchers = ["slurm"]

    /// `compare`'s options for a cluster run.
    public static let launchOptions: [OptionSpec] = [
        .value(
            "launcher", "NAME",
            "Run the grid as cluster jobs instead of here: slurm (a base job, one array task per strategy and seed, a merge job)."
        ),
        .value("partition", "P", "SLURM partition of every job (default: the cluster's)."),
        .value("time", "LIMIT", "SLURM time limit of every job, e.g. 04:00:00 (default: the partition's)."),
        .value("mem", "SIZE", "SLURM memory of every job, e.g. 16G (default: the partition's)."),
        .value("cpus-per-task", "N", "CPUs of every job; its kernel threads.", default: "1"),
        .value("array-parallelism", "K", "Run at most K cells at once (--array=...%K)."),
        .value(
            "sbatch-arg", "ARG", "A further sbatch option for every job, e.g. --sbatch-arg=--account=ml (repeatable).",
            repeatable: true),
        .value("executable", "PATH", "The skilltune the jobs run, on the shared filesystem (default: this one)."),
        .flag("dry-run", "Write plan.json and the sbatch scripts, print the submission commands, submit nothing."),
    ]

    /// Whether any option that sets the study's settings was given (else `--resume` takes them from the plan).
    static func settingsGiven(_ a: ParsedArguments) -> Bool {
        let neutral: Set<String> = ["threads", "quiet", "out", "resume"]
        return (StudyOptions.specs.map(\.name) + ["strategies", "option"]).contains {
            !neutral.contains($0) && a.has($0)
        }
    }

    /// `compare --launcher slurm`: writes the plan and the scripts, then submits what is not finished yet.
    public static func launch(
        _ a: ParsedArguments, registries: SkillTuneRegistries, print: (String) -> Void,
        submit: ([String]) throws -> String = SlurmLauncher.runSbatch
    ) throws {
        let launcher = a.string("launcher")!
        guard launchers.contains(launcher) else {
            throw UsageError(
                "option '--launcher' must be one of \(launchers.joined(separator: ", ")); got '\(launcher)'",
                command: a.command)
        }
        let directory = URL(fileURLWithPath: a.string("out")!).standardizedFileURL
        guard !directory.path.contains(where: { $0.isWhitespace || $0 == "%" }) else {
            throw UsageError(
                "--out '\(directory.path)': a cluster run's directory may not contain spaces or '%' (sbatch's #SBATCH lines and log names cannot hold them)",
                command: a.command)
        }
        let planFile = directory.appendingPathComponent(StudyPlan.fileName)
        let existing = FileManager.default.fileExists(atPath: planFile.path) ? try StudyPlan.read(planFile) : nil
        var config: StudyConfig
        if let existing, a.flag("resume"), !settingsGiven(a) {
            config = existing.settings
            _ = try StudyOptions.config(a)  // --threads and --quiet
        } else {
            config = try StudyOptions.config(a)
            try StudyOptions.applyStrategies(a, to: &config, registries: registries)
        }
        let slurm = SlurmSettings(
            partition: a.string("partition"), time: a.string("time"), memory: a.string("mem"),
            cpusPerTask: try a.int("cpus-per-task", in: 1...4096)!,
            arrayParallelism: try a.int("array-parallelism", in: 1...1_000_000), extraArguments: a.strings("sbatch-arg")
        )
        do { try slurm.check(source: "compare") } catch { throw UsageError("\(error)", command: a.command) }
        let study = Study(config: config, registries: registries, outputDirectory: directory, resume: true)
        try study.validate()
        if let existing {
            guard a.flag("resume") else {
                throw HostError(
                    "\(directory.path) already holds a planned study; pass --resume to submit what is missing, or choose another --out"
                )
            }
            guard existing.settings == config else {
                throw HostError(
                    "\(planFile.path): the study there was planned with other settings; --resume needs the same command (or choose another --out)"
                )
            }
        } else if FileManager.default.fileExists(atPath: study.studyFile.path) && !a.flag("resume") {
            throw HostError(
                "\(directory.path) already holds a comparison; pass --resume to continue it, or choose another --out")
        }
        let executable =
            try a.string("executable").map { path -> String in
                guard FileManager.default.isExecutableFile(atPath: path) else {
                    throw UsageError("--executable '\(path)': not an executable file", command: a.command)
                }
                return URL(fileURLWithPath: path).standardizedFileURL.path
            } ?? currentExecutable()
        let plan = StudyPlan(settings: config, executable: executable, slurm: slurm)
        try plan.write(to: directory)
        try SlurmLauncher.writeScripts(plan, directory: directory)
        let submitBase = !config.seedList.allSatisfy { study.seedStudy($0).baseFinished }
        let cells = try plan.cells.filter { try study.seedStudy($0.seed).readCell($0.strategy) == nil }.map(\.index)
        print(
            "wrote \(planFile.path) (\(plan.cells.count) cells) and \(directory.path)/slurm/"
                + SlurmLauncher.scriptNames.joined(separator: ", "))
        let submissions = SlurmLauncher.submissions(plan, directory: directory, submitBase: submitBase, cells: cells)
        if a.flag("dry-run") {
            print("dry run: nothing submitted. To submit:")
            for (job, arguments) in submissions {
                let line = "sbatch " + arguments.map(placeholderWord).joined(separator: " ")
                print(job == "merge" ? "  \(line)" : "  \(job)=$(\(line))")
            }
            return
        }
        if !submitBase && cells.isEmpty { print("the base and every cell have finished: submitting only the merge") }
        let jobs = try SlurmLauncher.submit(
            plan, directory: directory, submitBase: submitBase, cells: cells, run: submit)
        var parts: [String] = []
        if let base = jobs.base { parts.append("base job \(base)") }
        if let array = jobs.cells {
            parts.append(
                "cells array \(array) (\(cells.count) task\(cells.count == 1 ? "" : "s"): "
                    + "\(SlurmLauncher.arraySpec(cells, parallelism: nil)))")
        }
        parts.append("merge job \(jobs.merge)")
        print("submitted: " + parts.joined(separator: ", "))
        print("watch:   squeue -j \(jobs.all.joined(separator: ","))")
        print("logs:    \(directory.path)/logs/ (base.out, cell-N.out, merge.out)")
        print(
            "results: \(directory.path)/results.json once job \(jobs.merge) ends "
                + "(or run: \(ShellWords.line([plan.executable, "merge", directory.path])))")
    }

    /// An sbatch argument for a shell snippet: `{base}` and `{cells}` become the variables holding those job ids.
    static func placeholderWord(_ argument: String) -> String {
        guard argument.contains("{") else { return ShellWords.quoted(argument) }
        return "\"" + argument.replacingOccurrences(of: "{", with: "$").replacingOccurrences(of: "}", with: "") + "\""
    }

    /// This program's path, for the jobs to run.
    static func currentExecutable() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).standardizedFileURL
            .path
    }

    public static func cell(_ registries: SkillTuneRegistries, print: @escaping (String) -> Void = { Swift.print($0) })
        -> Command
    {
        Command(
            name: "cell",
            summary: "Run one job of a planned study: its base (--base) or one cell (a strategy through every stage).",
            usage: "--plan OUT/plan.json [--index N | --base] [--threads N]",
            discussion: """
                The job a cluster runs (written into OUT/slurm/*.sbatch by 'compare --launcher slurm'). Without
                --index, the cell's index comes from the batch engine: SLURM_ARRAY_TASK_ID (SLURM job arrays),
                JOB_COMPLETION_INDEX (Kubernetes indexed Jobs) or AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch); threads
                come from SLURM_CPUS_PER_TASK. A finished cell exits 0 at once; a started one resumes after its
                last finished stage. USR2 or TERM (SLURM's warning before the time limit, or preemption) stops it
                at the next step boundary with its finished stages kept. Cells load the base model the base job
                made and never build it themselves.

                EXAMPLES:
                  skilltune cell --plan runs/study/plan.json --base
                  skilltune cell --plan runs/study/plan.json --index 2
                """,
            options: [
                .value("plan", "FILE", "The study's plan.json (its directory is the study's output directory)."),
                .value("index", "N", "The cell to run (default: from the batch engine's variables)."),
                .flag("base", "Run the study's base job instead of a cell."),
                .value("threads", "N", "Threads for the kernels (default: SLURM_CPUS_PER_TASK, else all cores)."),
                .flag("quiet", "No progress or log lines on standard error."),
            ]
        ) { a in
            let planFile = URL(fileURLWithPath: try a.required("plan")).standardizedFileURL
            let plan = try StudyPlan.read(planFile)
            let environment = ProcessInfo.processInfo.environment
            if let threads = try a.int("threads", in: 1...256) ?? CellEnvironment.threads(environment: environment) {
                Parallel.threads = threads
            }
            if a.flag("quiet") { Progress.isEnabled = false }
            let study = Study(
                config: plan.settings, registries: registries, outputDirectory: planFile.deletingLastPathComponent(),
                resume: true)
            if a.flag("quiet") { study.log = { _ in } }
            InterruptHandler.install(stopSignals: [SIGUSR2, SIGTERM])
            if a.flag("base") {
                guard !a.has("index") else {
                    throw UsageError("--base runs the base job, --index a cell: give one of them", command: a.command)
                }
                for record in try study.runBasePhase() { print("base: ready (\(record.directory))") }
                return
            }
            let index: Int
            do {
                index = try CellEnvironment.index(given: try a.int("index", in: 0...Int.max), environment: environment)
            } catch let error as HostError { throw UsageError(error.description, command: a.command) }
            let cell = try plan.cell(index)
            let seedStudy = study.seedStudy(cell.seed)
            let record = try seedStudy.runCell(named: cell.strategy)
            print(
                "cell \(index) (\(label(cell, plan))): \(record.result.status)"
                    + (record.result.failure.map { ": \($0)" } ?? "")
                    + " (\(seedStudy.cellDirectory(cell.strategy).path))")
        }
    }

    public static func merge(_ registries: SkillTuneRegistries, print: @escaping (String) -> Void = { Swift.print($0) })
        -> Command
    {
        Command(
            name: "merge",
            summary: "Gather a study's finished cells into results.json, results.csv and report.html.",
            usage: "OUT [--allow-partial]",
            discussion: """
                Reads OUT/plan.json (or the study.json of a single-machine run) and every finished cell, and writes
                the same result files 'compare' writes: byte for byte, apart from 'timings', when the cells ran
                with the same thread count and CPU arithmetic (a warning says when they did not). Cells that have
                not finished are listed with the command that resubmits only them, and the exit status is 1 unless
                --allow-partial (which writes the results with those strategies marked "missing").

                EXAMPLES:
                  skilltune merge runs/study
                  skilltune merge runs/study --allow-partial
                """,
            options: [
                .flag("allow-partial", "Write the results even when cells are missing (marked \"missing\")."),
                .flag("quiet", "No warnings on standard error."),
            ],
            maxPositionals: 1
        ) { a in
            guard let path = a.positionals.first else {
                throw UsageError("give the study's output directory (skilltune merge OUT)", command: a.command)
            }
            let directory = URL(fileURLWithPath: path).standardizedFileURL
            let planFile = directory.appendingPathComponent(StudyPlan.fileName)
            let plan: StudyPlan
            if FileManager.default.fileExists(atPath: planFile.path) {
                plan = try StudyPlan.read(planFile)
            } else {
                let studyFile = directory.appendingPathComponent("study.json")
                guard let bytes = FileManager.default.contents(atPath: studyFile.path) else {
                    throw HostError(
                        "\(directory.path): no plan.json or study.json there (expected the --out directory of a study)")
                }
                let config = try JSONNesting.decode(StudyConfig.self, from: bytes, file: studyFile.path)
                plan = StudyPlan(settings: config, executable: currentExecutable(), slurm: nil)
            }
            let study = Study(config: plan.settings, registries: registries, outputDirectory: directory, resume: true)
            let merged = try study.merge(allowPartial: a.flag("allow-partial"))
            if !a.flag("quiet") { for warning in merged.warnings { Terminal.error("warning: \(warning)") } }
            if let results = merged.results, merged.wrote {
                print(String(ResultFiles.summaryTable(results).dropLast()))
                print("wrote \(directory.path)/results.json, results.csv, report.html")
            }
            guard !merged.missing.isEmpty else { return }
            let message = missingReport(merged, plan: plan, study: study, directory: directory)
            if a.flag("allow-partial") { Terminal.error(message) } else { throw HostError(message) }
        }
    }

    /// The missing cells, each with the end of its log, and the commands that run only them.
    static func missingReport(_ merged: StudyMerge, plan: StudyPlan, study: Study, directory: URL) -> String {
        let baseMissing = merged.results == nil
        let cells = plan.cells.filter { merged.missing.contains(StudyMerge.Cell(seed: $0.seed, strategy: $0.strategy)) }
        var lines = [
            baseMissing
                ? "the base job has not finished, so no cell has (\(cells.count) missing)"
                : "\(cells.count) of \(plan.cells.count) cells have not finished:"
        ]
        for cell in cells where !baseMissing {
            let log = directory.appendingPathComponent("logs/cell-\(cell.index).out")
            let stages = (1...max(1, plan.settings.targets.count)).filter { k in
                FileManager.default.fileExists(
                    atPath: study.seedStudy(cell.seed).cellDirectory(cell.strategy).appendingPathComponent(
                        "stage-\(k)/stage.json"
                    ).path)
            }.count
            var line =
                "  cell \(cell.index) (\(label(cell, plan))): \(stages) of \(plan.settings.targets.count) stages finished"
            if let last = lastLine(of: log) { line += "; \(log.path) ends: \(last)" }
            lines.append(line)
        }
        let indices = cells.map(\.index)
        let resume = ShellWords.line([
            plan.executable, "compare", "--launcher", "slurm", "--resume", "--out", directory.path,
        ])
        if plan.slurm != nil {
            if baseMissing {
                lines.append("resubmit the base, every cell and the merge: \(resume)")
            } else {
                let sbatch = ShellWords.line([
                    "sbatch", "--array=\(SlurmLauncher.arraySpec(indices, parallelism: plan.slurm?.arrayParallelism))",
                    directory.appendingPathComponent("slurm/cells.sbatch").path,
                ])
                lines.append("resubmit only them: \(sbatch)")
                lines.append("then merge again: \(ShellWords.line([plan.executable, "merge", directory.path]))")
                lines.append("(or both at once, with the merge after them: \(resume))")
            }
        } else {
            let planPath = directory.appendingPathComponent(StudyPlan.fileName).path
            if baseMissing {
                lines.append(
                    "run the base: \(ShellWords.line([plan.executable, "cell", "--plan", planPath, "--base"]))")
            }
            for index in indices {
                lines.append(
                    "run: \(ShellWords.line([plan.executable, "cell", "--plan", planPath, "--index", "\(index)"]))")
            }
        }
        lines.append("(--allow-partial writes the results without them)")
        return lines.joined(separator: "\n")
    }

    /// A cell as messages name it: its strategy, and its seed when the study has several.
    static func label(_ cell: StudyPlan.Cell, _ plan: StudyPlan) -> String {
        plan.settings.seedList.count > 1 ? "\(cell.strategy), seed \(cell.seed)" : cell.strategy
    }

    /// The last non-empty line of a log (at most its last 4 KB read), nil without one.
    static func lastLine(of file: URL) -> String? {
        guard let handle = try? FileHandle(forReadingFrom: file) else { return nil }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 4096 ? size - 4096 : 0)
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).last.map { String($0.prefix(200)) }
    }
}
