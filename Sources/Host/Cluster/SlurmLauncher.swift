import Foundation
import Kernel

/// The batch scripts of a study on SLURM (`OUT/slurm/*.sbatch`) and their submission: the base job, one array
/// task per cell once the base succeeded (`afterok`), and the merge once every cell ended, whatever its outcome
/// (`afterany`). Logs go to `OUT/logs/` (appended across requeues). Only `sbatch` is needed: no daemon of ours,
/// no database.
public enum SlurmLauncher {
    /// The script files, in submission order.
    public static let scriptNames = ["base.sbatch", "cells.sbatch", "merge.sbatch"]

    /// The three scripts for the plan of the study in `directory` (an absolute path).
    public static func scripts(_ plan: StudyPlan, directory: URL) -> [(name: String, text: String)] {
        let slurm = plan.slurm ?? SlurmSettings()
        let out = directory.path
        let planFile = directory.appendingPathComponent(StudyPlan.fileName).path
        func header(_ job: String, log: String, what: String, preemptible: Bool) -> String {
            var lines = [
                "#!/bin/bash",
                "# \(what)",
                "# Written by 'skilltune compare --launcher slurm' for the study in \(out).",
                "#SBATCH --job-name=skilltune-\(job)",
                "#SBATCH --output=\(out)/logs/\(log)",
                "#SBATCH --open-mode=append",
                "#SBATCH --cpus-per-task=\(slurm.cpusPerTask)",
            ]
            if preemptible { lines += ["#SBATCH --signal=B:USR2@\(slurm.signalSeconds)", "#SBATCH --requeue"] }
            if let p = slurm.partition { lines.append("#SBATCH --partition=\(p)") }
            if let t = slurm.time { lines.append("#SBATCH --time=\(t)") }
            if let m = slurm.memory { lines.append("#SBATCH --mem=\(m)") }
            lines += slurm.extraArguments.map { "#SBATCH \($0)" }
            lines += [
                "set -u",
                #"echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) $(hostname) job ${SLURM_JOB_ID:-} task ${SLURM_ARRAY_TASK_ID:-} restart ${SLURM_RESTART_COUNT:-0}""#,
            ]
            return lines.joined(separator: "\n") + "\n"
        }
        let skilltune = ShellWords.quoted(plan.executable)
        let planPath = ShellWords.quoted(planFile)
        return [
            (
                "base.sbatch",
                header(
                    "base", log: "base.out",
                    what: "The base job: pretrains or loads the base model and evaluates it once.",
                    preemptible: true) + stoppable("\(skilltune) cell --plan \(planPath) --base")
            ),
            (
                "cells.sbatch",
                header(
                    "cells", log: "cell-%a.out",
                    what: "One array task per cell of plan.json (SLURM_ARRAY_TASK_ID is the cell's index).",
                    preemptible: true) + stoppable("\(skilltune) cell --plan \(planPath)")
            ),
            (
                "merge.sbatch",
                header(
                    "merge", log: "merge.out",
                    what:
                        "Gathers the cells into results.json, results.csv and report.html; lists any cell that is missing.",
                    preemptible: false) + "exec \(skilltune) merge \(ShellWords.quoted(out))\n"
            ),
        ]
    }

    /// The body of a job that SLURM may stop: `command` runs in the background so that the shell can pass on
    /// USR2 (sent `signalSeconds` before the time limit) or TERM (preemption); the command then stops at a
    /// step boundary with its finished stages kept, and the job requeues itself to resume them (SLURM holds a
    /// requeued job for a few seconds, then starts it again with `SLURM_RESTART_COUNT` one higher).
    static func stoppable(_ command: String) -> String {
        """
        stopped=0
        \(command) &
        child=$!
        trap 'stopped=1; kill -USR2 "$child" 2>/dev/null' USR2 TERM
        status=0
        wait "$child" || status=$?
        while kill -0 "$child" 2>/dev/null; do
          status=0
          wait "$child" || status=$?
        done
        if [ "$stopped" = 1 ] && [ "$status" != 0 ]; then
          # An array task by its own name: the last task's SLURM_JOB_ID is the whole array's.
          job=$SLURM_JOB_ID
          if [ -n "${SLURM_ARRAY_JOB_ID:-}" ]; then job=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}; fi
          echo "stopped at a step boundary before the time limit (or for preemption); requeueing $job to resume"
          scontrol requeue "$job"
        fi
        exit "$status"

        """
    }

    /// Writes the scripts into `directory/slurm/` and creates `directory/logs/`.
    public static func writeScripts(_ plan: StudyPlan, directory: URL) throws {
        let scripts = directory.appendingPathComponent("slurm")
        for dir in [scripts, directory.appendingPathComponent("logs")] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
        for (name, text) in Self.scripts(plan, directory: directory) {
            try AtomicFile.write(Data(text.utf8), to: scripts.appendingPathComponent(name))
        }
    }

    /// An `--array` value: sorted indices as ranges (`0-2,5,7-8`), then `%K` when at most K may run at once.
    public static func arraySpec(_ indices: [Int], parallelism: Int?) -> String {
        var parts: [String] = []
        var sorted = Array(Set(indices)).sorted()[...]
        while let first = sorted.first {
            var last = first
            sorted = sorted.dropFirst()
            while sorted.first == last + 1 {
                last += 1
                sorted = sorted.dropFirst()
            }
            parts.append(first == last ? "\(first)" : "\(first)-\(last)")
        }
        return parts.joined(separator: ",") + (parallelism.map { "%\($0)" } ?? "")
    }

    /// The job ids of one submission (nil for a job not submitted because its work was done).
    public struct Jobs: Equatable, Sendable {
        public var base: String?
        public var cells: String?
        public var merge: String
        public var all: [String] { [base, cells, merge].compactMap { $0 } }

        public init(base: String?, cells: String?, merge: String) {
            self.base = base
            self.cells = cells
            self.merge = merge
        }
    }

    /// The `sbatch` argument lists of a submission, in order; `{base}` and `{cells}` stand for the job ids the
    /// earlier submissions print.
    public static func submissions(
        _ plan: StudyPlan, directory: URL, submitBase: Bool, cells: [Int]
    ) -> [(job: String, arguments: [String])] {
        let scripts = directory.appendingPathComponent("slurm")
        func script(_ name: String) -> String { scripts.appendingPathComponent(name).path }
        var out: [(String, [String])] = []
        if submitBase { out.append(("base", ["--parsable", script("base.sbatch")])) }
        if !cells.isEmpty {
            var arguments = ["--parsable", "--array=\(arraySpec(cells, parallelism: plan.slurm?.arrayParallelism))"]
            // A failed base can never satisfy afterok: without this the cells would wait forever.
            if submitBase { arguments += ["--dependency=afterok:{base}", "--kill-on-invalid-dep=yes"] }
            out.append(("cells", arguments + [script("cells.sbatch")]))
        }
        let after = !cells.isEmpty ? "{cells}" : submitBase ? "{base}" : nil
        out.append(
            ("merge", ["--parsable"] + (after.map { ["--dependency=afterany:\($0)"] } ?? []) + [script("merge.sbatch")])
        )
        return out
    }

    /// Submits the base (when `submitBase`), the `cells` and the merge with `sbatch` (`run` runs it with the
    /// given arguments and returns what it printed).
    public static func submit(
        _ plan: StudyPlan, directory: URL, submitBase: Bool, cells: [Int],
        run: ([String]) throws -> String = runSbatch
    ) throws -> Jobs {
        var ids: [String: String] = [:]
        for (job, arguments) in submissions(plan, directory: directory, submitBase: submitBase, cells: cells) {
            let resolved = arguments.map { argument in
                ids.reduce(argument) { $0.replacingOccurrences(of: "{\($1.key)}", with: $1.value) }
            }
            let printed = try run(resolved)
            // --parsable prints "jobid" or "jobid;cluster".
            let id = String(printed.split(separator: "\n").last?.split(separator: ";").first ?? "")
                .trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty, id.allSatisfy(\.isNumber) else {
                throw HostError("sbatch \(ShellWords.line(resolved)) printed '\(printed)', not a job id")
            }
            ids[job] = id
        }
        return Jobs(base: ids["base"], cells: ids["cells"], merge: ids["merge"]!)
    }

    /// Runs `sbatch` (found on PATH) with `arguments` and returns its standard output; a failure gives its
    /// standard error.
    public static func runSbatch(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sbatch"] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch {
            throw HostError(
                "cannot run sbatch (\(error.localizedDescription)); is SLURM's client installed and on PATH?")
        }
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        let complaint = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let reason = String(decoding: complaint, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw HostError(
                "sbatch \(ShellWords.line(arguments)) failed (exit \(process.terminationStatus))"
                    + (reason.isEmpty ? "" : ": \(reason)")
                    + (process.terminationStatus == 127 ? " (is SLURM's sbatch on PATH?)" : ""))
        }
        return String(decoding: printed, as: UTF8.self)
    }
}
