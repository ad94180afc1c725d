import Foundation
import Host
import Kernel

/// `skilltune fuzz`: the seeded mutation fuzzer for every parser of outside input (see `FuzzTarget.all`).
enum FuzzCommand {
    static func command() -> Command {
        Command(
            name: "fuzz",
            summary:
                "(advanced) Fuzz the parsers of outside input: safetensors, config.json, tokenizer.json, adapters, JSONL, images, arguments.",
            usage: "PARSER|all [--inputs N] [--seed S] [--corpus DIR] [--crashes DIR] [--replay FILE]",
            discussion: """
                Feeds each parser seeded mutations of the files in CORPUS/PARSER/ (bit flips, inserted and deleted
                bytes, splices, interesting integers in length fields, dictionary words; structure-aware mutations of
                JSON, of the safetensors header and of PNG chunks). An input that crashes, runs longer than
                --time-limit or grows memory past --memory-limit-mb is saved in --crashes and the run stops with exit
                code 3 (a crash dies by its signal, after saving). The same seed gives the same inputs.

                PARSERS: \(FuzzTarget.names.joined(separator: ", "))

                EXAMPLES:
                  skilltune fuzz all --inputs 1000000 --seed 1
                  skilltune fuzz safetensors --replay fuzz/crashes/crash-safetensors-seed1.bin
                """,
            options: [
                .value("inputs", "N", "Inputs per parser.", default: "100000"),
                .value("seed", "S", "Seed of the mutations.", default: "1"),
                .value("corpus", "DIR", "Seed corpus root (one directory per parser).", default: "fuzz/corpus"),
                .value("crashes", "DIR", "Where failing inputs are written.", default: "fuzz/crashes"),
                .value("time-limit", "SECONDS", "Longest a single input may take.", default: "10"),
                .value("memory-limit-mb", "MB", "Largest resident memory allowed.", default: "1024"),
                .value("replay", "FILE", "Run just this input (repeatable) and print its outcome.", repeatable: true),
                .flag("grow-corpus", "Save inputs with new outcomes into the corpus directory."),
            ],
            maxPositionals: 1
        ) { a in
            guard let which = a.positionals.first else {
                throw UsageError(
                    "which parser? one of \(FuzzTarget.all.map(\.name).joined(separator: ", ")), or all",
                    command: a.command)
            }
            let targets =
                which == "all"
                ? FuzzTarget.all
                : try FuzzTarget.named(which).map { [$0] }
                    ?? {
                        throw UsageError(
                            "unknown parser '\(which)'; parsers: \(FuzzTarget.all.map(\.name).joined(separator: ", ")), all",
                            command: a.command)
                    }()
            let corpus = URL(fileURLWithPath: a.string("corpus")!)
            let seed = UInt64(try a.int("seed", in: 0...Int.max)!)
            defer { FuzzFiles.remove() }
            for target in targets {
                var runner = FuzzRunner(target: target, seed: seed, corpus: corpus.appendingPathComponent(target.name))
                if !a.strings("replay").isEmpty {
                    for (file, outcome) in try runner.replay(a.strings("replay").map { URL(fileURLWithPath: $0) }) {
                        print("\(target.name) \(file): \(outcome)")
                    }
                    continue
                }
                runner.crashDirectory = URL(fileURLWithPath: a.string("crashes")!)
                runner.timeLimit = try a.double("time-limit", in: 0.01...3600)!
                runner.memoryLimitBytes = UInt64(try a.int("memory-limit-mb", in: 16...1_000_000)!) << 20
                if a.flag("grow-corpus") { runner.saveDirectory = corpus.appendingPathComponent(target.name) }
                Terminal.error("fuzzing \(target.name): \(target.summary); \(runner.seeds.count) seeds")
                print(runner.run(inputs: try a.int("inputs", in: 1...Int.max)!, guarded: true).description)
            }
        }
    }
}
