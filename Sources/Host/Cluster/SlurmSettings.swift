import Foundation

/// How a study's jobs ask SLURM for resources (`compare --launcher slurm` options); every job of the study asks
/// for the same.
public struct SlurmSettings: Codable, Equatable, Sendable {
    /// `--partition`; nil for the cluster's default.
    public var partition: String?
    /// `--time` as SLURM writes it (`MM`, `HH:MM:SS`, `D-HH:MM:SS`...); nil for the partition's default.
    public var time: String?
    /// `--mem` (`16G`, `4000M`...); nil for the partition's default.
    public var memory: String?
    /// `--cpus-per-task`: the CPUs of each job, and the kernel threads it runs (`SLURM_CPUS_PER_TASK`).
    public var cpusPerTask: Int
    /// At most this many cells at once (`--array=...%K`); nil for no limit.
    public var arrayParallelism: Int?
    /// Further `sbatch` options, each written as an `#SBATCH` line (`--account=ml`, `--qos=low`...).
    public var extraArguments: [String]
    /// Seconds before the time limit at which a job is told (USR2) to stop at a step boundary and requeue.
    public var signalSeconds: Int

    public init(
        partition: String? = nil, time: String? = nil, memory: String? = nil, cpusPerTask: Int = 1,
        arrayParallelism: Int? = nil, extraArguments: [String] = [], signalSeconds: Int = 120
    ) {
        self.partition = partition
        self.time = time
        self.memory = memory
        self.cpusPerTask = cpusPerTask
        self.arrayParallelism = arrayParallelism
        self.extraArguments = extraArguments
        self.signalSeconds = signalSeconds
    }

    /// Problems name the setting and what it expects; `source` names where the settings came from.
    public func check(source: String) throws {
        func fail(_ message: String) throws -> Never { throw HostError("\(source): \(message)") }
        if !(1...4096).contains(cpusPerTask) { try fail("--cpus-per-task must be from 1 to 4096, got \(cpusPerTask)") }
        if let k = arrayParallelism, k < 1 { try fail("--array-parallelism must be >= 1, got \(k)") }
        if !(0...86_400).contains(signalSeconds) { try fail("the signal time must be 0...86400 seconds") }
        if let time, !Self.isTime(time) {
            try fail(
                "--time '\(time)': expected a SLURM time limit (MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS)")
        }
        if let memory, memory.range(of: #"^[0-9]+[KMGT]?$"#, options: .regularExpression) == nil {
            try fail("--mem '\(memory)': expected a size such as 16G, 4000M or 4000 (megabytes)")
        }
        if let partition, partition.isEmpty || partition.contains(where: { $0.isWhitespace || $0 == "#" }) {
            try fail("--partition '\(partition)': expected a partition name (no spaces)")
        }
        for argument in extraArguments where !argument.hasPrefix("-") || argument.contains(where: \.isNewline) {
            try fail("--sbatch-arg '\(argument)': expected one sbatch option such as --account=ml (starting with '-')")
        }
    }

    /// Whether `text` is one of SLURM's time formats.
    static func isTime(_ text: String) -> Bool {
        let digits = "[0-9]+"
        let forms = [
            "^\(digits)$", "^\(digits):\(digits)$", "^\(digits):\(digits):\(digits)$", "^\(digits)-\(digits)$",
            "^\(digits)-\(digits):\(digits)$", "^\(digits)-\(digits):\(digits):\(digits)$",
        ]
        return forms.contains { text.range(of: $0, options: .regularExpression) != nil }
    }
}
