import Foundation
import Host
import Kernel

/// Runs a seeded mutation fuzzer on one `FuzzTarget`.
///
/// Inputs are mutations of a pool that starts with the corpus (or the target's built-in seeds) and keeps
/// every input whose outcome (the error it raised, digits removed, or "accepted") is new. With `guarded`,
/// a watchdog thread stops the process when one input runs longer than `timeLimit` or the resident memory
/// passes `memoryLimitBytes`, and fatal signals (a Swift trap, a segfault) are caught; in every case the
/// input is first written to `crashDirectory` so it can be replayed (`skilltune fuzz PARSER --replay FILE`).
public struct FuzzRunner {
    public struct Statistics: CustomStringConvertible {
        public var target: String
        public var inputs = 0
        public var accepted = 0
        public var outcomes = 0
        public var seconds = 0.0
        public var maximumResidentMegabytes = 0.0
        public var longestInputSeconds = 0.0

        public var description: String {
            String(
                format:
                    "%@: %d inputs in %.1f s (%.0f/s), %d accepted, %d distinct outcomes, slowest input %.3f s, max RSS %.0f MB, no crash",
                target, inputs, seconds, Double(inputs) / max(seconds, 1e-9), accepted, outcomes, longestInputSeconds,
                maximumResidentMegabytes)
        }
    }

    public var target: FuzzTarget
    public var seed: UInt64
    public var seeds: [[UInt8]]
    public var timeLimit: Double = 5
    public var memoryLimitBytes: UInt64 = 1 << 30
    public var crashDirectory: URL?
    /// New-outcome inputs are written here (at most `maximumSavedInputs`), to grow the committed corpus.
    public var saveDirectory: URL?
    public var maximumSavedInputs = 32
    public var log: (String) -> Void = { Terminal.error($0) }

    public init(target: FuzzTarget, seed: UInt64, corpus: URL?) {
        self.target = target
        self.seed = seed
        var seeds: [[UInt8]] = []
        if let corpus, let names = try? FileManager.default.contentsOfDirectory(atPath: corpus.path) {
            for name in names.sorted() where !name.hasPrefix(".") {
                if let data = FileManager.default.contents(atPath: corpus.appendingPathComponent(name).path) {
                    seeds.append([UInt8](data))
                }
            }
        }
        self.seeds = seeds.isEmpty ? target.builtInSeeds() : seeds
    }

    /// The outcome class of one input: "accepted", or the error text without digits, cut short.
    static func outcome(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "accepted"
        } catch {
            let text = String(
                "\(type(of: error)): \(error)".unicodeScalars.filter { !("0"..."9").contains($0) }.prefix(90))
            return text
        }
    }

    /// Feeds `count` inputs (the seeds first, then mutations). Returns the statistics; crashes do not return.
    public func run(inputs count: Int, guarded: Bool) -> Statistics {
        var stats = Statistics(target: target.name)
        var mutator = FuzzMutator(seed: seed, dictionary: target.dictionary)
        var pool = seeds
        var seen = Set<String>()
        var saved = 0
        var slowest: [UInt8] = []
        if guarded {
            FuzzGuard.install(
                target: target.name, seed: seed, crashDirectory: crashDirectory, timeLimit: timeLimit,
                memoryLimit: memoryLimitBytes)
        }
        let started = Date()
        var lastReport = started
        for index in 0..<count {
            let input: [UInt8]
            if index < seeds.count {
                input = seeds[index]
            } else {
                let base = pool[mutator.below(pool.count)]
                let other = pool[mutator.below(pool.count)]
                input = target.mutate.map { $0(&mutator, base, other) } ?? mutator.mutateBytes(base, other: other)
            }
            if guarded { FuzzGuard.begin(input, index: index) }
            let inputStarted = DispatchTime.now().uptimeNanoseconds
            let result = Self.outcome { try target.run(input) }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - inputStarted) / 1e9
            if guarded { FuzzGuard.end() }
            if elapsed > stats.longestInputSeconds {
                stats.longestInputSeconds = elapsed
                slowest = input
            }
            stats.inputs += 1
            if result == "accepted" { stats.accepted += 1 }
            if seen.insert(result).inserted {
                if pool.count < 4096 { pool.append(input) } else { pool[mutator.below(pool.count)] = input }
                if let saveDirectory, index >= seeds.count, saved < maximumSavedInputs {
                    var h: UInt64 = 0xCBF2_9CE4_8422_2325
                    for b in input { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
                    try? Data(input).write(to: saveDirectory.appendingPathComponent("found-\(String(h, radix: 16))"))
                    saved += 1
                }
            }
            if guarded, Date().timeIntervalSince(lastReport) > 30 {
                lastReport = Date()
                log(
                    "  \(target.name): \(index + 1)/\(count) inputs, \(seen.count) outcomes, RSS \(Int(FuzzGuard.residentMegabytes())) MB"
                )
            }
        }
        stats.outcomes = seen.count
        stats.seconds = Date().timeIntervalSince(started)
        stats.maximumResidentMegabytes = FuzzGuard.maximumResidentMegabytes()
        if guarded {
            FuzzGuard.uninstall()
            // The slowest input, to look at when it is slow enough to matter.
            if let crashDirectory {
                try? Data(slowest).write(
                    to: crashDirectory.appendingPathComponent("slowest-\(target.name)-seed\(seed).bin"))
            }
        }
        return stats
    }

    /// Runs each file once (to check a crash is fixed), returning each file's outcome.
    public func replay(_ files: [URL]) throws -> [(file: String, outcome: String)] {
        try files.map { url in
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw HostError("\(url.path): cannot read the file")
            }
            return (url.lastPathComponent, Self.outcome { try target.run([UInt8](data)) })
        }
    }
}
