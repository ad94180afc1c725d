import Foundation
import Host
import Kernel

/// One `skilltune` command: its words ("bench kernels"), help text, options, and what it does.
public struct Command {
    /// The words that select it, e.g. "compare" or "probe counting-bias".
    public var name: String
    /// One line for the command list.
    public var summary: String
    /// Usage line after the command words, e.g. "--model DIR [--json]".
    public var usage: String
    /// Longer help: what it does, what it prints, examples.
    public var discussion: String
    public var options: [OptionSpec]
    public var maxPositionals: Int
    public var run: (ParsedArguments) throws -> Void

    public init(
        name: String, summary: String, usage: String = "", discussion: String = "",
        options: [OptionSpec], maxPositionals: Int = 0, run: @escaping (ParsedArguments) throws -> Void
    ) {
        self.name = name
        self.summary = summary
        self.usage = usage
        self.discussion = discussion
        self.options = options + [.flag("help", "Show this help and exit.")]
        self.maxPositionals = maxPositionals
        self.run = run
    }

    /// The full help text, like a good Unix tool's.
    public func help(toolName: String) -> String {
        var out = "\(summary)\n\nUSAGE: \(toolName) \(name)\(usage.isEmpty ? "" : " " + usage)\n"
        if !discussion.isEmpty { out += "\n" + discussion.trimmingCharacters(in: .newlines) + "\n" }
        out += "\nOPTIONS:\n"
        let labels = options.map { "--\($0.name)" + ($0.valueName.map { " " + $0 } ?? "") }
        let width = min(30, (labels.map(\.count).max() ?? 0) + 2)
        for (o, label) in zip(options, labels) {
            var line = "  " + label.padding(toLength: max(width, label.count + 2), withPad: " ", startingAt: 0) + o.help
            if let d = o.defaultValue { line += " (default: \(d))" }
            out += line + "\n"
        }
        return out
    }
}

/// Dispatches arguments to commands, prints help and errors, and returns the process exit code:
/// 0 success, 1 failure while running, 2 bad usage, 130 interrupted (Ctrl-C).
public struct CommandLineTool {
    public var name: String
    public var summary: String
    public var commands: [Command]

    public init(name: String, summary: String, commands: [Command]) {
        self.name = name
        self.summary = summary
        self.commands = commands
    }

    public var help: String {
        "\(summary)\n\nUSAGE: \(name) <command> [options]\n\n" + Self.commandList(commands)
            + "\nSee '\(name) <command> --help' for a command's options.\n"
    }

    /// The commands of one group ("bench kernels", "bench train"...), for `tool bench --help`.
    public func groupHelp(_ group: String, _ members: [Command]) -> String {
        "USAGE: \(name) \(group) <command> [options]\n\n" + Self.commandList(members)
            + "\nSee '\(name) \(group) <command> --help' for a command's options.\n"
    }

    /// "COMMANDS:" and one aligned line per command: its name and summary.
    static func commandList(_ members: [Command]) -> String {
        let width = (members.map(\.name.count).max() ?? 0) + 4
        return "COMMANDS:\n"
            + members.map { "  " + $0.name.padding(toLength: width, withPad: " ", startingAt: 0) + $0.summary + "\n" }
            .joined()
    }

    /// Finds the command whose words prefix `arguments` (longest match) and the remaining arguments.
    func resolve(_ arguments: [String]) -> (Command, [String])? {
        var best: (Command, Int)?
        for c in commands {
            let words = c.name.split(separator: " ").map(String.init)
            if arguments.count >= words.count, Array(arguments.prefix(words.count)) == words,
                best == nil || words.count > best!.1
            {
                best = (c, words.count)
            }
        }
        return best.map { ($0.0, Array(arguments.dropFirst($0.1))) }
    }

    /// Runs the tool on `arguments` (without the program name) and returns the exit code.
    public func run(_ arguments: [String]) -> Int32 {
        if arguments.isEmpty || ["--help", "-h", "help"].contains(arguments[0]) {
            if arguments.count >= 2, let (c, _) = resolve(Array(arguments.dropFirst())) {
                print(c.help(toolName: name), terminator: "")
            } else {
                print(help, terminator: "")
            }
            return 0
        }
        if arguments[0] == "--version" {
            print("\(name) \(SkillTuneHost.version)")
            return 0
        }
        guard let (command, rest) = resolve(arguments) else {
            // A group word ("bench") alone or with --help lists the group's commands.
            let group = commands.filter { $0.name.hasPrefix(arguments[0] + " ") }
            if !group.isEmpty && (arguments.count == 1 || ["--help", "-h"].contains(arguments[1])) {
                print(groupHelp(arguments[0], group), terminator: "")
                return 0
            }
            let given = arguments.prefix(2).joined(separator: " ")
            let names = commands.map(\.name)
            var message = "unknown command '\(given)'"
            if let close = closestName(to: arguments[0], among: names) ?? closestName(to: given, among: names) {
                message += "; did you mean '\(close)'?"
            }
            message += "\nCommands: " + names.joined(separator: ", ") + "\nSee '\(name) --help'."
            Terminal.error("\(name): error: \(message)")
            return 2
        }
        if rest.contains("--help") || rest.contains("-h") {
            print(command.help(toolName: name), terminator: "")
            return 0
        }
        do {
            let parsed = try ParsedArguments(
                command: command.name, arguments: rest, options: command.options,
                maxPositionals: command.maxPositionals)
            try command.run(parsed)
            return 0
        } catch let error as Interrupted {
            var message = "Interrupted (\(error.place)). Finished stages are saved."
            if command.options.contains(where: { $0.name == "resume" }) {
                message += " Resume with: \(InterruptHandler.resumeCommand)"
            }
            Terminal.error(message)
            return 130
        } catch let error as UsageError {
            Terminal.error("\(name) \(error.command): error: \(error.message)\nSee '\(name) \(error.command) --help'.")
            return 2
        } catch {
            Terminal.error("\(name) \(command.name): error: \(error)")
            return 1
        }
    }
}
