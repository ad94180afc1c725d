import SkillTuneCLI

/// Runs the command `make` builds (given where to print), in-process, on `arguments` parsed as the tool parses
/// them, and returns what it printed.
func printedOutput(_ make: (@escaping (String) -> Void) -> Command, _ arguments: [String]) throws -> String {
    var printed = ""
    let command = make { printed += $0 }
    try command.run(
        ParsedArguments(
            command: command.name, arguments: arguments, options: command.options,
            maxPositionals: command.maxPositionals))
    return printed
}
