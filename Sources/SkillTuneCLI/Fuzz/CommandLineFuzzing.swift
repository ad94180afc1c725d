import Foundation
import Host
import Kernel

/// The command line as a fuzz target: an input is a list of arguments separated by NUL bytes. Each is
/// dispatched to a command as `skilltune` does, parsed against its options, and then every typed accessor
/// and the study options (strategy names and `--option` values included) are read. No command is run.
enum CommandLineFuzzing {
    static let registries = SkillTuneRegistries.builtIn()
    static let tool = CommandLineTool(name: "skilltune", summary: "", commands: SkillTuneCommands.all(registries))

    static let dictionary: [String] = {
        var words = Set<String>()
        for c in tool.commands {
            for w in c.name.split(separator: " ") { words.insert(String(w)) }
            for o in c.options { words.insert("--" + o.name) }
        }
        words.formUnion([
            "--", "-", "-h", "=", "all", "lora", "lwf", "components", "lora.rank=", "lora.rank=0", "x.y=z", ".=",
            "quick", "tiny", "small", "train", "eval", "-1", "0", "1", "2", "256", "257", "9223372036854775807",
            "9223372036854775808", "1e308", "1e-400", "nan", "inf", "-inf", "0x10", ",", ",,", "a,,b", "é", "",
        ])
        return words.sorted()
    }()

    static func encode(_ arguments: [String]) -> [UInt8] {
        Array(arguments.joined(separator: "\u{0}").utf8)
    }

    static func decode(_ bytes: [UInt8]) -> [String] {
        bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Argument-level mutations (insert, delete, duplicate, replace an argument with a known word) most of
    /// the time, byte-level ones otherwise.
    static func mutate(_ mutator: inout FuzzMutator, _ input: [UInt8], _ other: [UInt8]) -> [UInt8] {
        guard mutator.chance(0.7) else { return mutator.mutateBytes(input, other: other) }
        var arguments = decode(input)
        for _ in 0..<(1 + mutator.below(3)) {
            let word = dictionary[mutator.below(dictionary.count)]
            let at = mutator.below(arguments.count + 1)
            switch mutator.below(6) {
            case 0: arguments.insert(word, at: at)
            case 1: if at < arguments.count { arguments.remove(at: at) }
            case 2: if at < arguments.count { arguments[at] = word }
            case 3: if at < arguments.count { arguments.insert(arguments[at], at: at) }
            case 4: if at < arguments.count { arguments[at] += (mutator.chance(0.5) ? "=" : "") + word }
            default:
                let others = decode(other)
                if let pick = others.randomElement(using: &mutator.generator) { arguments.insert(pick, at: at) }
            }
        }
        return encode(Array(arguments.prefix(256)))
    }

    /// Parses `arguments` as `skilltune` would, reading every option; throws for what `skilltune` refuses.
    static func run(_ arguments: [String]) throws {
        guard let (command, rest) = tool.resolve(arguments) else {
            throw FuzzRejection("unknown command")
        }
        if rest.contains("--help") || rest.contains("-h") {
            _ = command.help(toolName: tool.name)
            return
        }
        let parsed = try ParsedArguments(
            command: command.name, arguments: rest, options: command.options,
            maxPositionals: command.maxPositionals)
        for option in command.options {
            _ = parsed.has(option.name)
            _ = parsed.string(option.name)
            _ = parsed.strings(option.name)
            _ = parsed.flag(option.name)
            _ = parsed.list(option.name)
            _ = try? parsed.int(option.name, in: 1...4096)
            _ = try? parsed.int(option.name)
            _ = try? parsed.double(option.name, in: 1e-12...10)
        }
        guard ["compare", "run", "pretrain"].contains(command.name) else { return }
        // The study options change two globals; put them back so later inputs start alike.
        let (threads, progress) = (Parallel.threads, Progress.isEnabled)
        defer {
            Parallel.threads = threads
            Progress.isEnabled = progress
        }
        let declared = Set(command.options.map(\.name))
        var config = try StudyOptions.config(parsed)
        let options = declared.contains("option") ? try StudyOptions.strategyOptions(parsed) : [:]
        let names =
            declared.contains("strategies")
            ? parsed.list("strategies")
            : declared.contains("strategy") ? parsed.string("strategy").map { [$0] } : nil
        if let names {
            config.strategies = names == ["all"] ? registries.allStrategyNames : names
            for name in config.strategies.prefix(16) {
                _ = try registries.strategy(name, options: options[name] ?? [:])
            }
        }
        config.strategyOptions = options
        _ = config.problems()
    }
}
